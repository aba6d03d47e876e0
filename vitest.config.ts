import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*"],
    globalSetup: ["./infra/test/global-setup.ts"],
    reporters: ["default", "./infra/test/summary-reporter.ts"],
  },
});
