import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createTestBucket, s3Client, swiftS3Env } from "@wharf/test-kit";
import { expect, it } from "vitest";
import { baseEnv } from "./helpers.ts";

const main = new URL("../src/main.ts", import.meta.url).pathname;

// Issue 21 §3: on Swift's s3api (no browser POST, no conditional writes) bitstore started and then
// handed out forms the store refuses, and failed its quota writes with HTTP 500.
it("refuses to start on a store without browser POST or conditional writes, naming each, exit 2", async () => {
  const env = swiftS3Env();
  await using bucket = await createTestBucket("bitstore-swift", { client: s3Client({ env }) });
  const result = await promisify(execFile)(process.execPath, [main], {
    env: {
      PATH: process.env.PATH ?? "",
      ...baseEnv({
        STORAGE_URL: `s3://${bucket.name}?endpoint=${env.endpoint}&region=${env.region}`,
        STORAGE_REGION: env.region,
        STORAGE_ACCESS_KEY_ID: env.accessKeyId,
        STORAGE_SECRET_ACCESS_KEY: env.secretAccessKey,
        PORT: "0",
        // With PUBLIC_URL bitstore would take the uploads itself (a warning, see store-capabilities).
        PUBLIC_URL: "",
      }),
    },
  }).catch((error: { code: number; stderr: string }) => error);
  expect((result as { code: number }).code).toBe(2);
  const lines = (result as { stderr: string }).stderr.trim().split("\n");
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^bitstore: .*presignedPost.*PUBLIC_URL/);
  expect(lines[1]).toMatch(/^bitstore: .*conditionalWrite/);
});
