import { isWharfError } from "@wharf/errors";
import { createTestBucket, s3Client, swiftS3Env, type TestBucket } from "@wharf/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDriver } from "../src/conformance/index.ts";
import { createS3Driver, openS3Driver, type S3DriverOptions } from "../src/drivers/s3/s3.ts";
import { openStorage } from "../src/open-storage.ts";

// OpenStack Swift's s3api: a second S3 implementation, without conditional writes (PUT with
// If-None-Match/If-Match answers 501) or browser POST (412 Bad URL). Issue 21 §3.
let bucket: TestBucket;
beforeAll(async () => {
  bucket = await createTestBucket("storage-driver-swift", { client: s3Client({ env: swiftS3Env() }) });
});
afterAll(async () => {
  await bucket?.[Symbol.asyncDispose]();
});

function connection(prefix: string): S3DriverOptions {
  const env = swiftS3Env();
  return {
    bucket: bucket.name,
    prefix,
    endpoint: env.endpoint,
    region: env.region,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    partSize: 5 * 1024 * 1024,
    // Swift's s3api default (max_upload_part_num).
    maxParts: 1000,
  };
}

testDriver({
  name: "s3 (Swift s3api)",
  create: () => openS3Driver(connection("conformance/")),
  conditionalStreamBytes: 6 * 1024 * 1024,
  completedUploadsLinger: true,
  // Swift's proxy takes ~30 ms per PUT on a loaded CI machine: Ceph's run covers the 1000-key page.
  manyKeys: 201,
});

describe("s3 driver on a store without conditional writes", () => {
  it("learns at open that the store has neither conditional writes nor browser POST", async () => {
    const driver = await openS3Driver(connection("probe/"));
    expect(driver.capabilities).toMatchObject({ conditionalWrite: false, presignedPost: false });
    expect((await driver.list({ prefix: ".wharf" })).objects).toEqual([]);
    await driver.close();
  });

  it("takes the capabilities a storage URL states without probing", async () => {
    const env = swiftS3Env();
    const query = new URLSearchParams({
      endpoint: env.endpoint,
      conditionalWrite: "false",
      presignedPost: "false",
    });
    const driver = await openStorage(`s3://${bucket.name}/stated/?${query}`, {
      credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    });
    expect(driver.capabilities).toMatchObject({ conditionalWrite: false, presignedPost: false });
    await driver.close();
  });

  it("maps the store's 501 to UNSUPPORTED naming conditionalWrite, not INTERNAL", async () => {
    // Regression: a driver that claimed conditional writes here failed with INTERNAL (HTTP 500).
    const driver = createS3Driver({ ...connection("claimed/"), conditionalWrite: true });
    const error = await driver.put("k", "x", { ifNoneMatch: "*" }).catch((e: unknown) => e);
    expect(isWharfError(error, "UNSUPPORTED")).toBe(true);
    expect((error as Error).message).toContain("conditionalWrite");
    expect(isWharfError(await driver.head("k").catch((e: unknown) => e), "NOT_FOUND")).toBe(true);
    await driver.close();
  });
});
