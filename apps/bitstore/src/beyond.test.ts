import { createMemoryDriver, listAllObjects, readAll, type StorageDriver } from "@wharf/storage-driver";
import { beforeEach, describe, expect, it } from "vitest";
import { buildApp, bytes, fileEntry, md5, token } from "../test/helpers.ts";

const MiB = 1024 * 1024;
type App = ReturnType<typeof buildApp>;

let driver: StorageDriver;
let app: App;

beforeEach(() => {
  driver = createMemoryDriver();
  app = buildApp({
    driver,
    env: { MULTIPART_THRESHOLD: String(6 * MiB), MULTIPART_PART_SIZE: String(5 * MiB) },
  });
});

async function call(path: string, user: string, body?: unknown, method = "POST"): Promise<Response> {
  return app.request(path, {
    method,
    headers: { "Content-Type": "application/json", "Auth-Token": await token(user) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

interface MultipartEntry {
  multipart: { key: string; upload_id: string; part_size: number; part_count: number };
}

async function startMultipart(data: Buffer, user = "bob") {
  const res = await call("/rawstore/authorize", user, {
    metadata: { owner: user, name: "big" },
    filedata: { "big.bin": fileEntry(data, "application/octet-stream", "big.bin") },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { filedata: Record<string, MultipartEntry> }).filedata["big.bin"]!.multipart;
}

async function putParts(mp: MultipartEntry["multipart"], data: Buffer) {
  const numbers = Array.from({ length: mp.part_count }, (_, i) => i + 1);
  const signed = await call("/rawstore/multipart/sign", "bob", {
    key: mp.key,
    upload_id: mp.upload_id,
    parts: numbers,
  });
  expect(signed.status).toBe(200);
  const { parts } = (await signed.json()) as { parts: { part_number: number; url: string }[] };
  for (const part of parts) {
    const url = new URL(part.url);
    const chunk = data.subarray((part.part_number - 1) * mp.part_size, part.part_number * mp.part_size);
    const res = await app.request(`${url.pathname}${url.search}`, {
      method: "PUT",
      headers: { host: url.host, "content-length": String(chunk.length) },
      body: chunk,
    });
    expect(res.status).toBe(200);
  }
}

describe("multipart uploads", () => {
  it("above the threshold, runs create, sign, list, complete end to end", async () => {
    const data = bytes(11 * MiB);
    const mp = await startMultipart(data);
    expect(mp).toMatchObject({ key: "bob/big/big.bin", part_size: 5 * MiB, part_count: 3 });
    await putParts(mp, data);
    const listed = await call(
      `/rawstore/multipart/parts?key=${encodeURIComponent(mp.key)}&upload_id=${mp.upload_id}`,
      "bob",
      undefined,
      "GET",
    );
    expect(((await listed.json()) as { parts: unknown[] }).parts).toHaveLength(3);
    const done = await call("/rawstore/multipart/complete", "bob", { key: mp.key, upload_id: mp.upload_id });
    expect(done.status).toBe(200);
    const stored = await readAll((await driver.get(mp.key)).body, { maxBytes: 20 * MiB });
    expect(md5(stored)).toBe(md5(data));
  });

  it("refuses to complete while a part is missing", async () => {
    const data = bytes(11 * MiB);
    const mp = await startMultipart(data);
    const res = await call("/rawstore/multipart/complete", "bob", { key: mp.key, upload_id: mp.upload_id });
    expect(res.status).toBe(412);
  });

  it("refuses an upload id used by someone else or with another key", async () => {
    const mp = await startMultipart(bytes(7 * MiB));
    const stranger = await call("/rawstore/multipart/sign", "alice", {
      key: mp.key,
      upload_id: mp.upload_id,
      parts: [1],
    });
    expect(stranger.status).toBe(403);
    const otherKey = await call("/rawstore/multipart/sign", "bob", {
      key: "bob/big/other.bin",
      upload_id: mp.upload_id,
      parts: [1],
    });
    expect(otherKey.status).toBe(403);
    const abortByStranger = await call("/rawstore/multipart/abort", "alice", {
      key: mp.key,
      upload_id: mp.upload_id,
    });
    expect(abortByStranger.status).toBe(403);
  });

  it("refuses a part body of another length than signed", async () => {
    const data = bytes(7 * MiB);
    const mp = await startMultipart(data);
    const signed = await call("/rawstore/multipart/sign", "bob", {
      key: mp.key,
      upload_id: mp.upload_id,
      parts: [2],
    });
    const [part] = ((await signed.json()) as { parts: { url: string }[] }).parts;
    const url = new URL(part!.url);
    const res = await app.request(`${url.pathname}${url.search}`, {
      method: "PUT",
      headers: { host: url.host, "content-length": "10" },
      body: Buffer.alloc(10),
    });
    expect(res.status).toBe(403);
  });

  it("abort leaves nothing behind", async () => {
    const data = bytes(7 * MiB);
    const mp = await startMultipart(data);
    await putParts(mp, data);
    const res = await call("/rawstore/multipart/abort", "bob", { key: mp.key, upload_id: mp.upload_id });
    expect(res.status).toBe(200);
    const left = [];
    for await (const object of listAllObjects(driver, {})) left.push(object.key);
    expect(left.filter((k) => !k.startsWith("_bitstore/quota/"))).toEqual([]);
    const again = await call("/rawstore/multipart/sign", "bob", {
      key: mp.key,
      upload_id: mp.upload_id,
      parts: [1],
    });
    expect(again.status).toBe(404);
  });
});

describe("quota", () => {
  const quotaUser = (n: number) =>
    token("carol", { permissions: { "datapackage-upload": true, max_public_storage_mb: n } });

  it("reserves atomically: parallel requests never overshoot the limit", async () => {
    const jwt = await quotaUser(1);
    const requests = Array.from({ length: 6 }, (_, i) =>
      app.request("/rawstore/authorize", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Auth-Token": jwt },
        body: JSON.stringify({
          metadata: { owner: "carol", name: "q" },
          filedata: { [`f${i}.bin`]: { length: 300_000, md5: md5(`x${i}`), name: `f${i}` } },
        }),
      }),
    );
    const statuses = (await Promise.all(requests)).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 403, 403, 403]);
    const usage = await app.request("/rawstore/quota", { headers: { "Auth-Token": jwt } });
    expect(await usage.json()).toEqual({ public: 900_000, private: 0 });
  });

  it("answers 403 with the upstream message when one request exceeds the limit", async () => {
    const res = await app.request("/rawstore/authorize", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Auth-Token": await quotaUser(1) },
      body: JSON.stringify({
        metadata: { owner: "carol", name: "q" },
        filedata: { "f.bin": { length: 1_000_001, md5: md5("x"), name: "f" } },
      }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toBe(
      "Max storage for user exceeded plan limit (1MB)",
    );
  });
});

describe("presigned downloads", () => {
  it("signs only keys under the caller's own prefix, never a foreign URL", async () => {
    await driver.put("bob/d/secret.csv", "s3cr3t", { metadata: { acl: "private" } });
    const own = await call("/rawstore/presign?key=bob/d/secret.csv", "bob", undefined, "GET");
    expect(own.status).toBe(200);
    const { url } = (await own.json()) as { url: string };
    const parsed = new URL(url);
    const got = await app.request(`${parsed.pathname}${parsed.search}`, { headers: { host: parsed.host } });
    expect(got.status).toBe(200);
    expect(await got.text()).toBe("s3cr3t");

    expect((await call("/rawstore/presign?key=bob/d/secret.csv", "alice", undefined, "GET")).status).toBe(
      403,
    );
    const foreign = encodeURIComponent("https://evil.example/bob/x");
    expect((await call(`/rawstore/presign?url=${foreign}`, "bob", undefined, "GET")).status).toBe(400);
    expect(
      (await call("/rawstore/presign?key=bob/d/secret.csv&ownerid=alice", "bob", undefined, "GET")).status,
    ).toBe(403);
  });

  it("refuses an unsigned download of a private object", async () => {
    await driver.put("bob/d/secret.csv", "s3cr3t", { metadata: { acl: "private" } });
    const res = await app.request("/rawstore/s3/store/bob/d/secret.csv", {
      headers: { host: "bitstore.test" },
    });
    expect(res.status).toBe(403);
  });
});

describe("CORS", () => {
  it("echoes the origin with credentials on a preflight", async () => {
    const res = await app.request("/rawstore/authorize", {
      method: "OPTIONS",
      headers: {
        Origin: "https://datahub.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "auth-token,content-type",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://datahub.example");
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
  });

  it("allows only the configured origins when a list is set", async () => {
    const strict = buildApp({ driver, env: { CORS_ORIGINS: "https://ok.example" } });
    const res = await strict.request("/rawstore/info", { headers: { Origin: "https://evil.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});
