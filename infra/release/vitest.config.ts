import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "release",
    include: ["**/*.test.ts"],
    // Builds every app's artifact and image once per run (podman, on the stand-in base).
    globalSetup: ["./global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
