import { ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import { isWharfError } from "@wharf/errors";
import { createTestBucket, s3Env, type TestBucket } from "@wharf/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prngStream, sha256Hex, testDriver } from "../src/conformance/index.ts";
import { createS3Driver } from "../src/drivers/s3.ts";
import type { StorageDriver } from "../src/types.ts";

let bucket: TestBucket;
beforeAll(async () => {
  bucket = await createTestBucket("storage-driver");
});
afterAll(async () => {
  await bucket?.[Symbol.asyncDispose]();
});

function driverFor(options: { prefix?: string; secret?: string } = {}): StorageDriver {
  const env = s3Env();
  return createS3Driver({
    bucket: bucket.name,
    prefix: options.prefix ?? "conformance/",
    endpoint: env.endpoint,
    region: env.region,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: options.secret ?? env.secretAccessKey },
  });
}

testDriver({
  name: "s3 (Ceph RGW)",
  create: async () => driverFor(),
  largeObjectBytes: Number(process.env.WHARF_LARGE_OBJECT_BYTES ?? 1024 * 1024 * 1024),
});

describe("s3 driver specifics", () => {
  it("aborts the multipart upload of a streamed body that fails its sha256, leaving nothing", async () => {
    const driver = driverFor({ prefix: "abort-check/" });
    const error = await driver
      .put("big", prngStream(20 * 1024 * 1024, 3), { sha256: sha256Hex("something else") })
      .catch((e: unknown) => e);
    expect(isWharfError(error, "CHECKSUM_MISMATCH")).toBe(true);
    expect(isWharfError(await driver.head("big").catch((e: unknown) => e), "NOT_FOUND")).toBe(true);
    const uploads = await bucket.client.send(
      new ListMultipartUploadsCommand({ Bucket: bucket.name, Prefix: "abort-check/" }),
    );
    expect(uploads.Uploads ?? []).toEqual([]);
    await driver.close();
  }, 120_000);

  it("reports wrong credentials as PERMISSION_DENIED", async () => {
    const driver = driverFor({ secret: "wrong-secret" });
    const error = await driver.head("anything").catch((e: unknown) => e);
    expect(isWharfError(error, "PERMISSION_DENIED")).toBe(true);
    await driver.close();
  });

  it("reports an unreachable endpoint as UNAVAILABLE", async () => {
    const driver = createS3Driver({
      bucket: "nowhere",
      endpoint: "http://127.0.0.1:9",
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
    });
    const error = await driver.head("anything").catch((e: unknown) => e);
    expect(isWharfError(error, "UNAVAILABLE")).toBe(true);
    await driver.close();
  });

  it("presigns a PUT whose signed Content-Type the store enforces", async () => {
    const driver = driverFor({ prefix: "presign-check/" });
    const put = await driver.presign("typed", { method: "PUT", expiresIn: 60, contentType: "text/plain" });
    const wrong = await fetch(put.url, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: "x",
    });
    expect(wrong.status).toBe(403);
    const right = await fetch(put.url, { method: "PUT", headers: put.headers, body: "x" });
    expect(right.status).toBe(200);
    expect((await driver.head("typed")).contentType).toBe("text/plain");
    await driver.close();
  });

  it("keeps the bucket prefix out of keys it returns", async () => {
    const driver = driverFor({ prefix: "tenant-a/" });
    await driver.put("x/y", "1");
    const page = await driver.list({ prefix: "x/" });
    expect(page.objects.map((o) => o.key)).toEqual(["x/y"]);
    expect((await driver.head("x/y")).key).toBe("x/y");
    await driver.close();
  });
});
