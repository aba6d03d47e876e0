import { randomBytes } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { createTestBucket, s3Env } from "@wharf/test-kit";
import { describe, expect, it } from "vitest";
import { runCli, workspace } from "./harness.ts";
import { s3Proxy } from "./proxy.ts";
import { s3Backend, tychoregConfig } from "./s3-backend.ts";
import { cliSuite } from "./suite.ts";

cliSuite("Ceph RGW (S3)", s3Backend(s3Env));

describe("tycho against S3 failures", () => {
  it("reports a wrong secret as PERMISSION_DENIED (exit 3) in one line", async () => {
    await using bucket = await createTestBucket("tycho-auth");
    await using ws = await workspace({ config: tychoregConfig(bucket.name, "wrong-secret") });
    const result = await ws.spawn("list");
    expect(result.code).toBe(3);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("says which settings to give when there are no S3 credentials (exit 2, one line)", async () => {
    // Bug: `S3 request failed (CredentialsProviderError)`, exit 1, no hint.
    const env = s3Env();
    await using ws = await workspace({
      config: { s3: { bucket: "any-bucket", endpoint_url: env.endpoint, region_name: env.region } },
    });
    const result = await runCli(["list"], ws.dir, { HOME: ws.dir, AWS_EC2_METADATA_DISABLED: "true" });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `No S3 credentials: set s3.aws_access_key_id and s3.aws_secret_access_key in ${join(ws.dir, ".tychoreg.json")}, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)\n`,
    );
  });

  it("reports an unreachable endpoint as UNAVAILABLE (exit 11)", async () => {
    await using ws = await workspace({
      config: tychoregConfig("some-bucket", undefined, "http://127.0.0.1:9"),
    });
    const result = await ws.run("list");
    expect(result.code).toBe(11);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("reports a missing bucket as a configuration error (exit 2) naming the bucket in one line", async () => {
    // Bug: init spun for 60 s (the claim retried NoSuchBucket), then blamed "another writer".
    await using ws = await workspace({ config: tychoregConfig("tycho-no-such-bucket-4711") });
    const file = await ws.file("f", "f");
    for (const argv of [
      ["list"],
      ["pull", "narf"],
      ["init", "narf", "narf.txt"],
      ["push", "narf", "1", file],
      // These start with a HEAD, whose 404 has no body to tell a missing bucket from a missing object.
      ["info", "narf", "1"],
      ["promote", "narf", "1"],
      ["yank", "narf", "1"],
      ["delete", "narf", "1"],
    ]) {
      const result = await ws.run(...argv);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain("tycho-no-such-bucket-4711");
    }
  });
});

/** What boto3's upload_file (tychoreg's push) stores above 8 MiB: a multipart upload of `partSize` parts. */
async function multipartPut(client: S3Client, bucket: string, key: string, data: Buffer, partSize: number) {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const parts = [];
  for (let start = 0, number = 1; start < data.length; start += partSize, number++) {
    const { ETag } = await client.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        PartNumber: number,
        Body: data.subarray(start, start + partSize),
      }),
    );
    parts.push({ ETag, PartNumber: number });
  }
  await client.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
}

describe("tycho after a push was killed", () => {
  it("aborts the killed push's unfinished upload when the claim is cleared or taken over", async () => {
    // Bug: a push killed with SIGKILL left its multipart upload behind for good.
    await using bucket = await createTestBucket("tycho-killed");
    await using ws = await workspace({ config: tychoregConfig(bucket.name) });
    const send = bucket.client.send.bind(bucket.client);
    const killedPush = async (version: string, at: Date) => {
      const key = `k/tycho_${version}.pkg`;
      await send(
        new PutObjectCommand({
          Bucket: bucket.name,
          Key: `${key}.claim`,
          Body: JSON.stringify({ by: "ci@dead", at }),
        }),
      );
      const { UploadId } = await send(new CreateMultipartUploadCommand({ Bucket: bucket.name, Key: key }));
      await send(
        new UploadPartCommand({
          Bucket: bucket.name,
          Key: key,
          UploadId,
          PartNumber: 1,
          Body: randomBytes(1024),
        }),
      );
    };
    const pending = async () =>
      (
        (await send(new ListMultipartUploadsCommand({ Bucket: bucket.name, Prefix: "k/" }))).Uploads ?? []
      ).map((upload) => upload.Key);
    await ws.run("init", "k", "k.bin");
    await killedPush("1.0", new Date());
    await killedPush("2.0", new Date(Date.now() - 2 * 3600_000));
    expect((await pending()).sort()).toEqual(["k/tycho_1.0.pkg", "k/tycho_2.0.pkg"]);

    expect((await ws.run("unclaim", "k", "1.0", "--yes")).stdout).toMatch(
      /; 1 unfinished upload aborted\)\n$/,
    );
    expect(await pending()).toEqual(["k/tycho_2.0.pkg"]);
    // A claim older than claim_stale_after_minutes is taken over by the next push, which sweeps the upload.
    expect(await ws.run("push", "k", "2.0", await ws.file("f", "f"))).toMatchObject({ code: 0 });
    expect(await pending()).toEqual([]);

    // An upload with no claim beside it: sweep aborts it once older than --older-than-hours.
    await send(new CreateMultipartUploadCommand({ Bucket: bucket.name, Key: "k/tycho_3.0.pkg" }));
    expect((await ws.run("sweep")).stdout).toBe("");
    const dayLater = new Date(Date.now() + 25 * 3600_000);
    expect((await ws.runAt(dayLater, "sweep")).stdout).toMatch(
      /^Unfinished Upload: k\/tycho_3\.0\.pkg \(since .*\)\n$/,
    );
    expect(await pending()).toEqual(["k/tycho_3.0.pkg"]);
    expect((await ws.runAt(dayLater, "sweep", "--yes")).stdout).toMatch(
      /\nCleared: 0 stale claims, 1 unfinished uploads older than 24 hours\n$/,
    );
    expect(await pending()).toEqual([]);
  });
});

describe("tycho on a bucket tychoreg wrote (no sha256 recorded)", () => {
  const mib = 1024 * 1024;

  it("verifies single-part and 8 MiB multipart ETags, fails corrupted downloads, warns when unverifiable", async () => {
    await using bucket = await createTestBucket("tycho-legacy");
    await using proxy = await s3Proxy(s3Env().endpoint, {
      corrupt: (request) => request.method === "GET" && /corrupt.*\.pkg/.test(request.url ?? ""),
    });
    await using ws = await workspace({ config: tychoregConfig(bucket.name, undefined, proxy.endpoint) });
    const put = (key: string, body: string | Buffer) =>
      bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: body }));
    const small = randomBytes(100_000);
    const big = randomBytes(17 * mib + 5);
    for (const pkg of ["small", "big", "corrupt-small", "corrupt-big", "odd"])
      await put(`${pkg}/tycho.json`, `{\n  "localname": "${pkg}.bin",\n  "latest": "1.0"\n}`);
    await put("small/tycho_1.0.pkg", small);
    await put("corrupt-small/tycho_1.0.pkg", small);
    await multipartPut(bucket.client, bucket.name, "big/tycho_1.0.pkg", big, 8 * mib);
    await multipartPut(bucket.client, bucket.name, "corrupt-big/tycho_1.0.pkg", big, 8 * mib);
    await multipartPut(bucket.client, bucket.name, "odd/tycho_1.0.pkg", big, 5 * mib);

    for (const [pkg, data] of [
      ["small", small],
      ["big", big],
    ] as const) {
      const pulled = await ws.spawn("pull", pkg, "--json");
      expect(pulled.code).toBe(0);
      expect(pulled.json()).toMatchObject({ verified: true, verifiedBy: "etag" });
      expect(pulled.stderr).toBe("");
      expect((await readFile(join(ws.dir, `tycho_packages/${pkg}.bin`))).equals(data)).toBe(true);
    }

    for (const pkg of ["corrupt-small", "corrupt-big"]) {
      const pulled = await ws.spawn("pull", pkg);
      expect(pulled.code).toBe(7);
      expect(pulled.stderr).toMatch(new RegExp(`^Checksum Mismatch: ${pkg}, Version 1\\.0 \\(expected ETag`));
      expect(pulled.stderr.trim().split("\n")).toHaveLength(1);
      for (const suffix of ["", ".etag", ".tycho-partial", ".tycho-partial.json"])
        await expect(stat(join(ws.dir, `tycho_packages/${pkg}.bin${suffix}`))).rejects.toThrow();
    }

    expect(await ws.spawn("verify", "big")).toMatchObject({
      code: 0,
      stdout: "OK: big, Version 1.0 (ETag)\n",
    });
    expect(await ws.spawn("verify", "corrupt-big")).toMatchObject({ code: 7 });

    // 5 MiB parts are not tychoreg's layout: the ETag cannot be recomputed, so say so and go on.
    const odd = await ws.spawn("pull", "odd", "--json");
    expect(odd.code).toBe(0);
    expect(odd.json()).toMatchObject({ verified: false, verifiedBy: null });
    expect(odd.stderr).toMatch(/^Warning: odd 1\.0 is unverified: .*multipart ETag \(4 parts\)/);
    expect((await readFile(join(ws.dir, "tycho_packages/odd.bin"))).equals(big)).toBe(true);
  });
});
