import { type AddressInfo, createServer, type Socket } from "node:net";
import { ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { isWharfError } from "@wharf/errors";
import { createTestBucket, s3Env, type TestBucket } from "@wharf/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prngStream, sha256Hex, testDriver } from "../src/conformance/index.ts";
import { CLAIMS_FOLDER, claimObjectKey } from "../src/drivers/s3/claim.ts";
import { createS3Driver, openS3Driver, type S3DriverOptions } from "../src/drivers/s3/s3.ts";
import type { StorageDriver } from "../src/types.ts";

let bucket: TestBucket;
beforeAll(async () => {
  bucket = await createTestBucket("storage-driver");
});
afterAll(async () => {
  await bucket?.[Symbol.asyncDispose]();
});

type DriverFor = { prefix?: string; secret?: string } & Partial<
  Pick<S3DriverOptions, "partSize" | "claimTtlMs" | "claimWaitMs">
>;

function driverFor(options: DriverFor = {}): StorageDriver {
  const env = s3Env();
  const { prefix, secret, ...rest } = options;
  return createS3Driver({
    bucket: bucket.name,
    prefix: prefix ?? "conformance/",
    endpoint: env.endpoint,
    region: env.region,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: secret ?? env.secretAccessKey },
    ...rest,
  });
}

/** Plants a claim on `key` as a writer that is still working (or crashed) would have left it. */
async function plantClaim(prefix: string, key: string, expires: number): Promise<string> {
  const claim = claimObjectKey(prefix, key);
  await bucket.client.send(
    new PutObjectCommand({
      Bucket: bucket.name,
      Key: claim,
      Body: JSON.stringify({ v: 1, key, nonce: "planted", expires }),
      Metadata: { "wharf-claim-expires": String(expires) },
    }),
  );
  return claim;
}

/** A driver on a bucket that does not exist. */
function absentBucketDriver(extra: Partial<S3DriverOptions> = {}): StorageDriver {
  const env = s3Env();
  return createS3Driver({
    bucket: `${bucket.name}-absent`,
    endpoint: env.endpoint,
    region: env.region,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    ...extra,
  });
}

async function rawKeys(prefix: string): Promise<string[]> {
  const output = await bucket.client.send(new ListObjectsV2Command({ Bucket: bucket.name, Prefix: prefix }));
  return (output.Contents ?? []).map((object) => object.Key ?? "");
}

testDriver({
  name: "s3 (Ceph RGW)",
  // 5 MiB parts keep the multipart races (6 MiB bodies) fast.
  create: async () => driverFor({ partSize: 5 * 1024 * 1024 }),
  conditionalStreamBytes: 6 * 1024 * 1024,
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

  it("keeps every multipart upload usable, whatever the store's id looks like", async () => {
    // Ceph's ids are `2~` and 31 random characters: about 1 in 60 starts with "m", which an id
    // reader that took `~m…` for a condition turned into the id "2" (NoSuchUpload).
    const driver = driverFor({ prefix: "upload-ids/" });
    const ids = await Promise.all(Array.from({ length: 150 }, () => driver.createMultipart("same")));
    const listed = await Promise.all(ids.map((id) => driver.listParts("same", id).then(() => "ok", String)));
    await Promise.all(ids.map((id) => driver.abortMultipart("same", id)));
    expect(listed.filter((result) => result !== "ok")).toEqual([]);
    await driver.close();
  });

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

  it("reports a missing bucket on put and list as UNAVAILABLE, not as a missing object", async () => {
    const driver = absentBucketDriver();
    // HEAD answers carry no body, so only calls with an error document can tell a bucket from a key.
    for (const attempt of [() => driver.put("k", "body"), () => driver.list()]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(isWharfError(error, "UNAVAILABLE")).toBe(true);
    }
    await driver.close();
  });

  it("fails a conditional write to a missing bucket at once, naming the bucket, not another writer", async () => {
    // Bug: the claim took NoSuchBucket (UNAVAILABLE) for a busy claim and retried for claimWaitMs,
    // then blamed "another writer" (tycho init spun 60 s). With no wait, main gave that message at once.
    const driver = absentBucketDriver({ claimWaitMs: 0 });
    for (const condition of [{ ifNoneMatch: "*" as const }, { ifMatch: "abc" }]) {
      const error = await driver.put("k", "body", condition).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "UNAVAILABLE", message: "the bucket does not exist" });
      expect((error as Error).cause).toMatchObject({ name: "NoSuchBucket" });
    }
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

  it("leaves no claim object behind after conditional writes", async () => {
    const driver = driverFor({ prefix: "claims-clean/", partSize: 5 * 1024 * 1024 });
    await driver.put("small", "x", { ifNoneMatch: "*" });
    await driver.put("big", prngStream(6 * 1024 * 1024, 9), { ifNoneMatch: "*" });
    await driver.copy("small", "copied", { ifNoneMatch: "*" });
    const uploadId = await driver.createMultipart("parts", { ifNoneMatch: "*" });
    const part = await driver.uploadPart("parts", uploadId, 1, "p");
    await driver.completeMultipart("parts", uploadId, [part]);
    expect(await rawKeys(`claims-clean/${CLAIMS_FOLDER}`)).toEqual([]);
    expect((await rawKeys("claims-clean/")).sort()).toEqual(
      ["claims-clean/big", "claims-clean/copied", "claims-clean/parts", "claims-clean/small"].sort(),
    );
    await driver.close();
  }, 60_000);

  it("refuses a multipart completion with ifNoneMatch when the key appeared meanwhile", async () => {
    // Ceph 16 ignores If-None-Match on CompleteMultipartUpload: the driver's own check must catch it.
    const driver = driverFor({ prefix: "claims-mp/" });
    const uploadId = await driver.createMultipart("k", { ifNoneMatch: "*" });
    const part = await driver.uploadPart("k", uploadId, 1, "late");
    await driver.put("k", "first");
    const error = await driver.completeMultipart("k", uploadId, [part]).catch((e: unknown) => e);
    expect(isWharfError(error, "PRECONDITION_FAILED")).toBe(true);
    expect((await driver.head("k")).size).toBe(5);
    await driver.close();
  });

  it("takes over the expired claim of a crashed writer", async () => {
    const driver = driverFor({ prefix: "claims-stale/" });
    const claim = await plantClaim("claims-stale/", "k", Date.now() - 1000);
    await driver.put("k", "after the crash", { ifNoneMatch: "*" });
    expect((await driver.head("k")).size).toBe(15);
    expect(await rawKeys(claim)).toEqual([]);
    await driver.close();
  });

  it("waits for a live claim and then gives up with UNAVAILABLE", async () => {
    const driver = driverFor({ prefix: "claims-live/", claimWaitMs: 200 });
    await plantClaim("claims-live/", "k", Date.now() + 600_000);
    const error = await driver.put("k", "x", { ifNoneMatch: "*" }).catch((e: unknown) => e);
    expect(isWharfError(error, "UNAVAILABLE")).toBe(true);
    expect(isWharfError(await driver.head("k").catch((e: unknown) => e), "NOT_FOUND")).toBe(true);
    await driver.close();
  });

  it("never lists a claim object, even while one is held", async () => {
    const driver = driverFor({ prefix: "claims-list/" });
    await plantClaim("claims-list/", "k", Date.now() + 600_000);
    await driver.put("visible", "x");
    const top = await driver.list({ delimiter: "/" });
    expect(top.prefixes).toEqual([]);
    expect(top.objects.map((o) => o.key)).toEqual(["visible"]);
    expect((await driver.list({})).objects.map((o) => o.key)).toEqual(["visible"]);
    expect((await driver.list({ prefix: ".wharf" })).objects).toEqual([]);
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

describe("s3 driver probe on Ceph RGW", () => {
  it("finds conditional writes and browser POST, and leaves nothing behind", async () => {
    const env = s3Env();
    const driver = await openS3Driver({
      bucket: bucket.name,
      prefix: "probe/",
      endpoint: env.endpoint,
      region: env.region,
      credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    });
    expect(driver.capabilities).toMatchObject({ conditionalWrite: true, presignedPost: true });
    expect(await rawKeys("probe/")).toEqual([]);
    await driver.close();
  });

  it("fails to open a missing bucket with UNAVAILABLE and a message saying how to skip the probe", async () => {
    const env = s3Env();
    const error = await openS3Driver({
      bucket: `${bucket.name}-absent`,
      endpoint: env.endpoint,
      region: env.region,
      credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    }).catch((e: unknown) => e);
    expect(isWharfError(error, "UNAVAILABLE")).toBe(true);
    expect((error as Error).message).toContain("conditionalWrite=");
  });

  it("gives up on a store that takes connections but never answers, naming the wait", async () => {
    // A full Ceph OSD looks like this to a client: RGW accepts, then answers nothing.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const error = await openS3Driver({
        bucket: "silent",
        endpoint: `http://127.0.0.1:${port}`,
        credentials: { accessKeyId: "a", secretAccessKey: "b" },
        probeTimeoutMs: 1500,
      }).catch((e: unknown) => e);
      expect(isWharfError(error, "UNAVAILABLE")).toBe(true);
      expect((error as Error).message).toContain("did not answer within 1.5 s");
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe("s3 driver connections", () => {
  it("answers a head while more downloads than the AWS SDK's 50 connections are held open", async () => {
    const driver = driverFor({ prefix: "sockets/" });
    await driver.put("held", Buffer.alloc(4 * 1024 * 1024, 7));
    // Each download is left unread, so each holds its connection, as a slow FTP reader does.
    const held = await Promise.all(Array.from({ length: 60 }, () => driver.get("held")));
    try {
      const answered = await Promise.race([
        driver.head("held").then((meta) => meta?.size),
        new Promise((resolve) => setTimeout(() => resolve("queued"), 10_000)),
      ]);
      expect(answered).toBe(4 * 1024 * 1024);
    } finally {
      for (const object of held) object.body.destroy();
      await driver.close();
    }
  });
});
