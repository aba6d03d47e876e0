import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "infra",
    include: ["dev/**/*.test.ts", "deploy/**/*.test.ts", "cluster/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
