import { createTestContainer, freePort, startAppProcess, type TestContainer } from "@wharf/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authKeys, bytes, fileEntry, formData, md5, token, type UploadForm } from "./helpers.ts";

const main = new URL("../src/main.ts", import.meta.url).pathname;
const MiB = 1024 * 1024;

// Issue 25: bitstore on Azure Blob, which takes no browser POST (no presignedPost): bitstore takes the
// forms itself, as its README says, and writes every upload through the Azure driver.
let container: TestContainer;
let bitstore: AsyncDisposable & { url: string };
let started: Record<string, unknown> = {};

beforeAll(async () => {
  container = await createTestContainer("bitstore");
  bitstore = await startAppProcess({
    script: main,
    env: {
      ...container.env,
      STORAGE_URL: container.storageUrl("data/"),
      DATAHUB_PUBLIC_KEY: authKeys.publicKey,
      HOST: "127.0.0.1",
      PORT: String(await freePort()),
      MULTIPART_THRESHOLD: String(6 * MiB),
      MULTIPART_PART_SIZE: String(5 * MiB),
    },
    ready: (record) => {
      if (record.msg !== "bitstore listening") return undefined;
      started = record;
      return record.url as string;
    },
  });
});

afterAll(async () => {
  await bitstore?.[Symbol.asyncDispose]();
  await container?.[Symbol.asyncDispose]();
});

async function call(path: string, body: unknown) {
  return fetch(`${bitstore.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Auth-Token": await token("bob") },
    body: JSON.stringify(body),
  });
}

async function authorize(files: Record<string, ReturnType<typeof fileEntry>>) {
  const res = await call("/rawstore/authorize", { metadata: { owner: "bob", name: "ds" }, filedata: files });
  expect(res.status).toBe(200);
  return ((await res.json()) as { filedata: Record<string, Record<string, unknown>> }).filedata;
}

const blob = (key: string) => container.client.getBlockBlobClient(`data/${key}`);

describe("bitstore on Azure Blob (node src/main.ts, Azurite)", () => {
  it("takes the forms itself, keeping its key pair in the container", async () => {
    expect(started.uploads).toBe("bitstore");
    expect(await blob("_bitstore/local-credentials.json").exists()).toBe(true);
  });

  it("stores a form upload in the container, says it exists, verifies it and serves it back", async () => {
    const data = bytes(3 * MiB + 5, 25);
    const entry = fileEntry(data, "application/octet-stream", "a.bin");
    const form = (await authorize({ "a.bin": entry }))["a.bin"] as unknown as UploadForm & {
      exists: boolean;
    };
    expect(form.exists).toBe(false);
    expect(form.upload_url).toBe(`${bitstore.url}/rawstore/s3/store`);
    expect((await fetch(form.upload_url, { method: "POST", body: formData(form, data) })).status).toBe(204);
    expect(md5(await blob("bob/ds/a.bin").downloadToBuffer())).toBe(md5(data));
    // Azure's etags are no MD5: exists and /verify use the MD5 bitstore checked on the way in.
    expect((await authorize({ "a.bin": entry }))["a.bin"]?.exists).toBe(true);
    const verified = await call("/rawstore/verify", {
      metadata: { owner: "bob", name: "ds" },
      filedata: { "a.bin": entry },
    });
    expect(await verified.json()).toEqual({ filedata: { "a.bin": "ok" } });
    const presigned = await fetch(`${bitstore.url}/rawstore/presign?key=bob/ds/a.bin`, {
      headers: { "Auth-Token": await token("bob") },
    });
    const { url } = (await presigned.json()) as { url: string };
    const download = await fetch(url);
    expect(download.status).toBe(200);
    expect(md5(Buffer.from(await download.arrayBuffer()))).toBe(md5(data));
  });

  it("refuses a body that does not match the form's Content-MD5 and stores nothing", async () => {
    const form = (await authorize({ "b.csv": fileEntry("hello") }))["b.csv"] as unknown as UploadForm;
    const res = await fetch(form.upload_url, { method: "POST", body: formData(form, "HELLO") });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("<Error>");
    expect(await blob("bob/ds/b.csv").exists()).toBe(false);
  });

  it("runs the multipart flow through bitstore into staged blocks", async () => {
    const data = bytes(12 * MiB + 3, 7);
    const entry = fileEntry(data, "application/octet-stream", "big.bin");
    const { multipart } = (await authorize({ "big.bin": entry }))["big.bin"] as {
      multipart: { key: string; upload_id: string; part_size: number; part_count: number };
    };
    expect(multipart.part_count).toBe(3);
    const signed = await call("/rawstore/multipart/sign", {
      key: multipart.key,
      upload_id: multipart.upload_id,
      parts: [1, 2, 3],
    });
    const { parts } = (await signed.json()) as { parts: { part_number: number; url: string }[] };
    for (const part of parts) {
      expect(part.url.startsWith(`${bitstore.url}/rawstore/s3/store/`)).toBe(true);
      const chunk = data.subarray(
        (part.part_number - 1) * multipart.part_size,
        part.part_number * multipart.part_size,
      );
      expect((await fetch(part.url, { method: "PUT", body: chunk })).status).toBe(200);
    }
    const done = await call("/rawstore/multipart/complete", {
      key: multipart.key,
      upload_id: multipart.upload_id,
    });
    expect(done.status).toBe(200);
    expect(md5(await blob(multipart.key).downloadToBuffer())).toBe(md5(data));
    expect((await authorize({ "big.bin": entry }))["big.bin"]?.exists).toBe(true);
  });
});
