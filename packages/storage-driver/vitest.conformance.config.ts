import { defineConfig } from "vitest/config";

/** `pnpm --filter @wharf/storage-driver conformance <url>`: the suite against one storage URL, no services started. */
export default defineConfig({
  test: {
    include: ["test/url.conformance.ts"],
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
