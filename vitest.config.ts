import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*", "infra/vitest.config.ts", "infra/release/vitest.config.ts"],
    globalSetup: ["./infra/test/global-setup.ts"],
    reporters: ["default", "./infra/test/summary-reporter.ts"],
  },
});
