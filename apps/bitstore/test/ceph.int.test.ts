import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import { openStorage, readAll, type StorageDriver } from "@wharf/storage-driver";
import { createTestBucket, s3Env, type TestBucket, tempDir } from "@wharf/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { probeStore } from "../src/probe.ts";
import { createServices } from "../src/services.ts";
import { formFor, post, type RunningBitstore, startBitstore } from "./harness.ts";
import { bytes, fileEntry, md5, token, type UploadForm } from "./helpers.ts";

const MiB = 1024 * 1024;
const run = promisify(execFile);

let bucket: TestBucket;
let driver: StorageDriver;
let bitstore: RunningBitstore;
let multipartBitstore: RunningBitstore;
let env: Record<string, string>;

beforeAll(async () => {
  const s3 = s3Env();
  bucket = await createTestBucket("bitstore");
  env = {
    STORAGE_URL: `s3://${bucket.name}?endpoint=${s3.endpoint}&region=${s3.region}&forcePathStyle=true`,
    STORAGE_REGION: s3.region,
    STORAGE_ACCESS_KEY_ID: s3.accessKeyId,
    STORAGE_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
  driver = await openStorage(env.STORAGE_URL as string, {
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  bitstore = await startBitstore({ env, driver });
  multipartBitstore = await startBitstore({
    env: { ...env, MULTIPART_THRESHOLD: String(6 * MiB), MULTIPART_PART_SIZE: String(5 * MiB) },
    driver,
  });
});

afterAll(async () => {
  await bitstore?.[Symbol.asyncDispose]();
  await multipartBitstore?.[Symbol.asyncDispose]();
  await driver?.close();
  await bucket?.[Symbol.asyncDispose]();
});

describe("bitstore on Ceph RGW", () => {
  it.each([
    ["0 B", 0],
    ["1 MiB", MiB],
    ["100 MiB", 100 * MiB],
  ])("uploads %s through the returned form, browser-style", async (_label, size) => {
    const data = bytes(size, size + 7);
    const path = `files/${size}.bin`;
    const form = await formFor(bitstore, path, data, "application/octet-stream");
    expect(form.upload_url).toBe(`${s3Env().endpoint}/${bucket.name}`);
    const res = await post(form, data);
    expect(res.status).toBe(204);
    const info = await driver.head(`bob/ds/${path}`);
    expect(info.size).toBe(size);
    expect(info.etag).toBe(Buffer.from(md5(data), "base64").toString("hex"));
    expect((await formFor(bitstore, path, data, "application/octet-stream")).exists).toBe(true);
  });

  it("accepts the form from curl -F, the way data-cli posts it", async () => {
    await using dir = await tempDir("bitstore-curl-");
    const file = join(dir.path, "a.csv");
    await writeFile(file, "x,y\n1,2\n");
    const form = await formFor(bitstore, "curl/a.csv", "x,y\n1,2\n");
    const args = Object.entries(form.upload_query).flatMap(([k, v]) => ["-F", `${k}=${v}`]);
    const { stdout } = await run("curl", [
      "-s",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      ...args,
      "-F",
      `file=@${file};type=text/csv`,
      form.upload_url,
    ]);
    expect(stdout).toBe("204");
    const got = await driver.get("bob/ds/curl/a.csv");
    expect((await readAll(got.body)).toString()).toBe("x,y\n1,2\n");
  });

  it.each([
    ["a longer body", (f: UploadForm) => ({ form: f, body: "hello!!" }), 400],
    ["a shorter body", (f: UploadForm) => ({ form: f, body: "hell" }), 400],
    [
      "another key",
      (f: UploadForm) => ({
        form: { ...f, upload_query: { ...f.upload_query, key: "bob/ds/v/other.csv" } },
        body: "hello",
      }),
      403,
    ],
    [
      "another content type",
      (f: UploadForm) => ({
        form: { ...f, upload_query: { ...f.upload_query, "Content-Type": "text/html" } },
        body: "hello",
      }),
      403,
    ],
    [
      "a tampered signature",
      (f: UploadForm) => ({
        form: { ...f, upload_query: { ...f.upload_query, "x-amz-signature": "0".repeat(64) } },
        body: "hello",
      }),
      403,
    ],
  ])("Ceph refuses %s", async (_what, violate, status) => {
    const { form, body } = violate(await formFor(bitstore, "v/a.csv", "hello"));
    const res = await post(form, body);
    expect(res.status).toBe(status);
    await expect(driver.head("bob/ds/v/a.csv")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(driver.head("bob/ds/v/other.csv")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("Ceph refuses an expired policy", async () => {
    await using old = await startBitstore({ env, driver, now: () => new Date(Date.now() - 2 * 3600_000) });
    const form = await formFor(old, "v/expired.csv", "hello");
    const res = await post(form, "hello");
    expect(res.status).toBe(403);
    await expect(driver.head("bob/ds/v/expired.csv")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("leaves no body that mismatches its Content-MD5: refused by the store or quarantined by /verify", async () => {
    const form = await formFor(bitstore, "v/md5.csv", "hello");
    const res = await post(form, "HELLO");
    if (res.ok) {
      const verify = await bitstore.call("/rawstore/verify", "bob", {
        metadata: { owner: "bob", name: "ds" },
        filedata: { "v/md5.csv": fileEntry("hello") },
      });
      expect(await verify.json()).toEqual({ filedata: { "v/md5.csv": "quarantined" } });
    }
    await expect(driver.head("bob/ds/v/md5.csv")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("the start-up probe finds what Ceph enforces", async () => {
    const config = loadConfig({
      ...env,
      DATAHUB_PUBLIC_KEY: "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----",
    });
    const { forms } = createServices({ config, driver });
    const report = await probeStore({ target: forms, driver, statePrefix: config.statePrefix });
    expect(report).toMatchObject({ signature: true, contentLengthRange: true, contentType: true });
    expect(typeof report.contentMd5).toBe("boolean");
  });

  it("with VERIFY_UPLOADS=redirect, a browser following the redirect learns the verdict", async () => {
    await using verifying = await startBitstore({ env: { ...env, VERIFY_UPLOADS: "redirect" }, driver });
    const good = await formFor(verifying, "r/good.csv", "hello");
    const ok = await post(good, "hello", undefined, "follow");
    expect(ok.status).toBe(200);
    const bad = await formFor(verifying, "r/bad.csv", "hello");
    const refused = await post(bad, "HELLO", undefined, "follow");
    expect(refused.status).toBeGreaterThanOrEqual(400);
    await expect(driver.head("bob/ds/r/bad.csv")).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await driver.head("bob/ds/r/good.csv")).size).toBe(5);
  });

  it("runs a multipart upload end to end against Ceph", async () => {
    const data = bytes(11 * MiB, 3);
    const res = await multipartBitstore.authorize("bob", {
      "big.bin": fileEntry(data, "application/octet-stream", "big.bin"),
    });
    const mp = (
      (await res.json()) as {
        filedata: Record<
          string,
          { multipart: { key: string; upload_id: string; part_size: number; part_count: number } }
        >;
      }
    ).filedata["big.bin"]!.multipart;
    expect(mp.part_count).toBe(3);
    const signed = await multipartBitstore.call("/rawstore/multipart/sign", "bob", {
      key: mp.key,
      upload_id: mp.upload_id,
      parts: [1, 2, 3],
    });
    const { parts } = (await signed.json()) as {
      parts: { part_number: number; url: string; headers: Record<string, string> }[];
    };
    for (const part of parts) {
      const chunk = data.subarray((part.part_number - 1) * mp.part_size, part.part_number * mp.part_size);
      const put = await fetch(part.url, { method: "PUT", body: chunk });
      expect(put.status).toBe(200);
    }
    const done = await multipartBitstore.call("/rawstore/multipart/complete", "bob", {
      key: mp.key,
      upload_id: mp.upload_id,
    });
    expect(done.status).toBe(200);
    const stored = await readAll((await driver.get(mp.key)).body, { maxBytes: 20 * MiB });
    expect(md5(stored)).toBe(md5(data));
    expect(
      (await multipartBitstore
        .authorize("bob", { "big.bin": fileEntry(data, "application/octet-stream", "big.bin") })
        .then((r) => r.json())) as unknown,
    ).toMatchObject({
      filedata: { "big.bin": { exists: true } },
    });
  });

  it("a part of the wrong size is refused by Ceph, and abort leaves nothing behind", async () => {
    const data = bytes(7 * MiB, 4);
    const res = await multipartBitstore.authorize("bob", {
      "gone.bin": fileEntry(data, "application/octet-stream", "gone.bin"),
    });
    const mp = (
      (await res.json()) as { filedata: Record<string, { multipart: { key: string; upload_id: string } }> }
    ).filedata["gone.bin"]!.multipart;
    const signed = await multipartBitstore.call("/rawstore/multipart/sign", "bob", {
      key: mp.key,
      upload_id: mp.upload_id,
      parts: [1],
    });
    const [part] = ((await signed.json()) as { parts: { url: string }[] }).parts;
    expect((await fetch(part!.url, { method: "PUT", body: Buffer.alloc(1000) })).status).toBe(403);
    expect((await fetch(part!.url, { method: "PUT", body: data.subarray(0, 5 * MiB) })).status).toBe(200);
    const aborted = await multipartBitstore.call("/rawstore/multipart/abort", "bob", {
      key: mp.key,
      upload_id: mp.upload_id,
    });
    expect(aborted.status).toBe(200);
    const uploads = await bucket.client.send(new ListMultipartUploadsCommand({ Bucket: bucket.name }));
    expect((uploads.Uploads ?? []).filter((u) => u.UploadId === mp.upload_id)).toEqual([]);
    await expect(driver.head(mp.key)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("presigns a private download under the caller's prefix only", async () => {
    await driver.put("bob/ds/private.txt", "mine");
    const res = await bitstore.call("/rawstore/presign?key=bob/ds/private.txt", "bob", undefined, "GET");
    const { url } = (await res.json()) as { url: string };
    const got = await fetch(url);
    expect(await got.text()).toBe("mine");
    expect(
      (await bitstore.call("/rawstore/presign?key=bob/ds/private.txt", "eve", undefined, "GET")).status,
    ).toBe(403);
    expect((await fetch(`${s3Env().endpoint}/${bucket.name}/bob/ds/private.txt`)).status).toBe(403);
  });

  it("refuses a token for another user than metadata.owner", async () => {
    const res = await fetch(`${bitstore.url}/rawstore/authorize`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Auth-Token": await token("eve") },
      body: JSON.stringify({ metadata: { owner: "bob", name: "ds" }, filedata: { "a.csv": fileEntry("a") } }),
    });
    expect(res.status).toBe(401);
  });
});
