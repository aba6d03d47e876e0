import { Readable } from "node:stream";
import { openStorage, readAll, type StorageDriver } from "@wharf/storage-driver";
import { type TempDir, tempDir } from "@wharf/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formFor, post, type RunningBitstore, startBitstore } from "./harness.ts";
import { bytes, fileEntry, md5, token, type UploadForm } from "./helpers.ts";

const MiB = 1024 * 1024;
let dir: TempDir;
let driver: StorageDriver;
let bitstore: RunningBitstore;

beforeAll(async () => {
  dir = await tempDir("bitstore-local-");
  driver = await openStorage(`file://${dir.path}`);
  bitstore = await startBitstore({
    env: {
      STORAGE_URL: `file://${dir.path}`,
      MULTIPART_THRESHOLD: String(101 * MiB),
      MULTIPART_PART_SIZE: String(5 * MiB),
    },
    driver,
  });
});

afterAll(async () => {
  await bitstore?.[Symbol.asyncDispose]();
  await driver?.close();
  await dir?.[Symbol.asyncDispose]();
});

describe("local-disk mode over HTTP (fs driver)", () => {
  it.each([
    ["0 B", 0],
    ["1 MiB", MiB],
    ["100 MiB", 100 * MiB],
  ])("uploads %s through the form bitstore itself accepts", async (_label, size) => {
    const data = bytes(size, size + 11);
    const path = `files/${size}.bin`;
    const form = await formFor(bitstore, path, data, "application/octet-stream");
    expect(form.upload_url).toBe(`${bitstore.url}/rawstore/s3/store`);
    const res = await post(form, data);
    expect(res.status).toBe(204);
    const info = await driver.head(`bob/ds/${path}`);
    expect(info.size).toBe(size);
    expect(info.etag).toBe(Buffer.from(md5(data), "base64").toString("hex"));
    expect((await formFor(bitstore, path, data, "application/octet-stream")).exists).toBe(true);
  });

  it.each([
    ["a longer body", (f: UploadForm) => ({ form: f, body: "hello!!" }), 400],
    ["a body that does not match Content-MD5", (f: UploadForm) => ({ form: f, body: "HELLO" }), 400],
    [
      "another key",
      (f: UploadForm) => ({
        form: { ...f, upload_query: { ...f.upload_query, key: "bob/ds/v/b.csv" } },
        body: "hello",
      }),
      403,
    ],
    [
      "a tampered signature",
      (f: UploadForm) => ({
        form: { ...f, upload_query: { ...f.upload_query, "x-amz-signature": "f".repeat(64) } },
        body: "hello",
      }),
      403,
    ],
  ])("refuses %s and stores nothing", async (_what, violate, status) => {
    const { form, body } = violate(await formFor(bitstore, "v/a.csv", "hello"));
    expect((await post(form, body)).status).toBe(status);
    await expect(driver.head("bob/ds/v/a.csv")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(driver.head("bob/ds/v/b.csv")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("runs the multipart flow over HTTP exactly as against S3", async () => {
    await using mp = await startBitstore({
      env: {
        STORAGE_URL: `file://${dir.path}`,
        MULTIPART_THRESHOLD: String(6 * MiB),
        MULTIPART_PART_SIZE: String(5 * MiB),
      },
      driver,
    });
    const data = bytes(12 * MiB, 9);
    const res = await mp.authorize("bob", {
      "big.bin": fileEntry(data, "application/octet-stream", "big.bin"),
    });
    const upload = (
      (await res.json()) as {
        filedata: Record<string, { multipart: { key: string; upload_id: string; part_size: number } }>;
      }
    ).filedata["big.bin"]!.multipart;
    const signed = await mp.call("/rawstore/multipart/sign", "bob", {
      key: upload.key,
      upload_id: upload.upload_id,
      parts: [1, 2, 3],
    });
    const { parts } = (await signed.json()) as { parts: { part_number: number; url: string }[] };
    for (const part of parts) {
      const chunk = data.subarray(
        (part.part_number - 1) * upload.part_size,
        part.part_number * upload.part_size,
      );
      expect((await fetch(part.url, { method: "PUT", body: chunk })).status).toBe(200);
    }
    const done = await mp.call("/rawstore/multipart/complete", "bob", {
      key: upload.key,
      upload_id: upload.upload_id,
    });
    expect(done.status).toBe(200);
    const stored = await readAll((await driver.get(upload.key)).body, { maxBytes: 20 * MiB });
    expect(md5(stored)).toBe(md5(data));
  });

  // Regression (issue 20 §2): a 50 MB body was read whole before its 400, 300 MB took 1.2 GB more.
  it.each([
    ["a declared Content-Length", true],
    ["a chunked body", false],
  ])("answers 413 to a 50 MB /authorize body with %s, and keeps serving", async (_what, declared) => {
    const body = Buffer.alloc(50 * MiB, 0x20);
    const res = await fetch(`${bitstore.url}/rawstore/authorize`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Auth-Token": await token("bob") },
      body: declared ? body : Readable.toWeb(Readable.from([body])),
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { code: string }).code).toBe("PAYLOAD_TOO_LARGE");
    expect((await formFor(bitstore, "after-413.csv", "a,b\n")).exists).toBe(false);
  });
});
