import { randomBytes } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { createTestBucket, s3Env } from "@wharf/test-kit";
import { describe, expect, it } from "vitest";
import { workspace } from "./harness.ts";
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

  it("reports an unreachable endpoint as UNAVAILABLE (exit 11)", async () => {
    await using ws = await workspace({
      config: tychoregConfig("some-bucket", undefined, "http://127.0.0.1:9"),
    });
    const result = await ws.run("list");
    expect(result.code).toBe(11);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("reports a missing bucket as a configuration error (exit 2) naming the bucket in one line", async () => {
    await using ws = await workspace({ config: tychoregConfig("tycho-no-such-bucket-4711") });
    for (const argv of [["list"], ["pull", "narf"]]) {
      const result = await ws.run(...argv);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain("tycho-no-such-bucket-4711");
    }
  });
});

/**
 * A loopback HTTP proxy in front of Ceph that flips one byte in every GET response body of a
 * `.pkg` object whose key contains `corrupt`, as a faulty network or disk on the way would. Requests pass unchanged
 * (Host included), so their SigV4 signatures still verify at Ceph.
 */
async function corruptingProxy(target: string): Promise<{ endpoint: string } & AsyncDisposable> {
  const upstream = new URL(target);
  const server = createServer((request, response) => {
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
      },
      (reply) => {
        response.writeHead(reply.statusCode ?? 502, reply.headers);
        const url = request.url ?? "";
        let flipped = request.method !== "GET" || !/corrupt.*\.pkg/.test(url);
        reply.on("data", (chunk: Buffer) => {
          if (!flipped && chunk.length > 0) {
            chunk[0] = (chunk[0] as number) ^ 0xff;
            flipped = true;
          }
          response.write(chunk);
        });
        reply.on("end", () => response.end());
      },
    );
    forward.on("error", () => response.destroy());
    request.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    [Symbol.asyncDispose]: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

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

describe("tycho on a bucket tychoreg wrote (no sha256 recorded)", () => {
  const mib = 1024 * 1024;

  it("verifies single-part and 8 MiB multipart ETags, fails corrupted downloads, warns when unverifiable", async () => {
    await using bucket = await createTestBucket("tycho-legacy");
    await using proxy = await corruptingProxy(s3Env().endpoint);
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
