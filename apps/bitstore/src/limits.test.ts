import { createMemoryDriver, MAX_OBJECT_BYTES, MAX_PARTS, type StorageDriver } from "@wharf/storage-driver";
import { beforeEach, describe, expect, it } from "vitest";
import { buildApp, fileEntry, token } from "../test/helpers.ts";
import { jsonBodyLimit } from "./app.ts";

// Regression (issue 20 §2): /authorize read any body whole into memory (300 MB took the process to
// 1.38 GB), and a declared length of 10^15 was answered with 14,901,162 parts and a real upload.

const limit = jsonBodyLimit(1000);
let driver: StorageDriver;
let app: ReturnType<typeof buildApp>;

beforeEach(() => {
  driver = createMemoryDriver();
  app = buildApp({ driver, env: { MULTIPART_THRESHOLD: String(100 * 1024 * 1024) } });
});

/** A body of `total` bytes in 64 KiB chunks that counts what was pulled from it. */
function countedBody(total: number) {
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  const counter = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (counter.pulled >= total) return controller.close();
      counter.pulled += chunk.length;
      controller.enqueue(chunk);
    },
  });
  return { stream, counter };
}

async function post(path: string, body: ReadableStream<Uint8Array>, headers: Record<string, string> = {}) {
  return app.request(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Auth-Token": await token("bob"), ...headers },
    body,
    duplex: "half",
  } as RequestInit);
}

async function authorizeLength(length: number): Promise<Response> {
  const entry = { ...fileEntry("x"), length };
  const body = JSON.stringify({ metadata: { owner: "bob", name: "big" }, filedata: { "big.bin": entry } });
  return app.request("/rawstore/authorize", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Auth-Token": await token("bob") },
    body,
  });
}

async function pendingUploads(): Promise<number> {
  let count = 0;
  for await (const _ of driver.listMultipartUploads()) count++;
  return count;
}

describe("JSON request bodies", () => {
  it.each(["/rawstore/authorize", "/rawstore/verify", "/rawstore/multipart/sign"])(
    "answers 413 to %s with a Content-Length over the limit, reading none of it",
    async (path) => {
      const { stream, counter } = countedBody(50 * 1024 * 1024);
      const res = await post(path, stream, { "Content-Length": String(50 * 1024 * 1024) });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { code: string }).code).toBe("PAYLOAD_TOO_LARGE");
      expect(counter.pulled).toBeLessThanOrEqual(64 * 1024);
    },
  );

  it("cuts a chunked body off with 413 once it passes the limit", async () => {
    const { stream, counter } = countedBody(50 * 1024 * 1024);
    const res = await post("/rawstore/authorize", stream);
    expect(res.status).toBe(413);
    expect(counter.pulled).toBeLessThan(limit + 4 * 64 * 1024);
  });

  it("still reads a body just under the limit (then 400: not JSON)", async () => {
    const { stream } = countedBody(limit - 64 * 1024);
    expect((await post("/rawstore/authorize", stream)).status).toBe(400);
  });
});

describe("declared lengths", () => {
  it("refuses a file over 5 TiB with 400 and opens no multipart upload", async () => {
    for (const length of [10 ** 15, MAX_OBJECT_BYTES + 1]) {
      const res = await authorizeLength(length);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(/5 TiB/);
    }
    expect(await pendingUploads()).toBe(0);
  });

  it("splits a 5 TiB file into at most 10,000 parts of whole MiB", async () => {
    const res = await authorizeLength(MAX_OBJECT_BYTES);
    expect(res.status).toBe(200);
    const { multipart } = (
      (await res.json()) as {
        filedata: Record<string, { multipart: { part_size: number; part_count: number } }>;
      }
    ).filedata["big.bin"]!;
    expect(multipart.part_count).toBeLessThanOrEqual(MAX_PARTS);
    expect(multipart.part_size % (1024 * 1024)).toBe(0);
    expect(multipart.part_size * multipart.part_count).toBeGreaterThanOrEqual(MAX_OBJECT_BYTES);
    expect(await pendingUploads()).toBe(1);
  });

  it("keeps the configured part size when 10,000 parts of it are enough", async () => {
    const res = await authorizeLength(200 * 1024 * 1024);
    const { multipart } = (
      (await res.json()) as {
        filedata: Record<string, { multipart: { part_size: number; part_count: number } }>;
      }
    ).filedata["big.bin"]!;
    expect(multipart).toMatchObject({ part_size: 64 * 1024 * 1024, part_count: 4 });
  });
});

describe("a file named __proto__", () => {
  it("gets its verdict from /verify like any other", async () => {
    const res = await app.request("/rawstore/verify", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Auth-Token": await token("bob") },
      // As a client sends it: a JSON object literal's __proto__ would set the prototype instead.
      body: `{"metadata":{"owner":"bob","name":"ds"},"filedata":{"__proto__":${JSON.stringify(fileEntry("a"))},"a.csv":${JSON.stringify(fileEntry("b"))}}}`,
    });
    expect(res.status).toBe(200);
    const { filedata } = (await res.json()) as { filedata: Record<string, string> };
    expect(Object.keys(filedata)).toEqual(["__proto__", "a.csv"]);
  });
});
