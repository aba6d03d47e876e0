import { isWharfError } from "@wharf/errors";
import { openStorage, type StorageDriver } from "@wharf/storage-driver";
import { createTestBucket, s3Client, swiftS3Env, type TestBucket } from "@wharf/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVfs } from "../src/core/vfs.ts";

// Swift's s3api answers 501 to conditional PUTs (issue 21 §3): MKD used to fail with 451 there.
describe("directories on a store without conditional writes (Swift s3api)", () => {
  let bucket: TestBucket;
  let driver: StorageDriver;
  beforeAll(async () => {
    const env = swiftS3Env();
    bucket = await createTestBucket("ftps-swift", { client: s3Client({ env }) });
    driver = await openStorage(`s3://${bucket.name}?endpoint=${encodeURIComponent(env.endpoint)}`, {
      credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    });
  });
  afterAll(async () => {
    await driver?.close();
    await bucket?.[Symbol.asyncDispose]();
  });

  it("makes a directory marker after checking the name, and refuses an existing one", async () => {
    expect(driver.capabilities.conditionalWrite).toBe(false);
    const vfs = createVfs({ driver, home: "", dirSuffix: "/.s3keep" });
    await vfs.mkdir("/reports");
    expect((await driver.head("reports/.s3keep")).size).toBe(0);
    expect(await vfs.isDir("/reports")).toBe(true);
    const again = await vfs.mkdir("/reports").catch((error: unknown) => error);
    expect(isWharfError(again, "ALREADY_EXISTS")).toBe(true);
  });
});
