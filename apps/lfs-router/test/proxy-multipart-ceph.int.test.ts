import { createHash, randomBytes } from "node:crypto";
import { type RunningServer, serveHttp, silentLogger } from "@wharf/http-kit";
import { abortStaleUploads } from "@wharf/storage-driver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { nodeFetch } from "../src/http.ts";
import { basic, lfsHeaders, testConfig, token } from "../src/test-support.ts";
import {
  abortRawUpload,
  type CephStore,
  cephStore,
  headObject,
  multipartUploads,
  startRawUpload,
} from "./ceph.ts";

interface Action {
  href: string;
}
type BatchAnswer = { objects: { actions?: Record<string, Action>; error?: { code: number } }[] };

const partSize = 5 * 1024 * 1024;
const prefix = "lfs/";

/**
 * Proxy mode streams bodies to S3 through multipart (what lets objects over 5 GiB through); here
 * with 5 MiB parts, so a 13 MiB object takes three.
 */
describe("proxied multipart uploads to Ceph RGW", () => {
  let store: CephStore;
  let server: RunningServer;
  let auth: string;
  const keyOf = (oid: string) => `${prefix}org/big/${oid.slice(0, 2)}/${oid.slice(2, 4)}/${oid}`;
  const batch = async (operation: string, oid: string, size: number) => {
    const res = await fetch(`${server.url}/org/big/info/lfs/objects/batch`, {
      method: "POST",
      headers: { ...lfsHeaders, Authorization: auth },
      body: JSON.stringify({ operation, objects: [{ oid, size }] }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as BatchAnswer).objects[0];
  };
  const pendingUploads = () => multipartUploads(store.bucket, prefix);

  beforeAll(async () => {
    store = await cephStore(prefix, { partSize: String(partSize) });
    const app = createApp({ config: testConfig(), driver: store.driver, mode: "proxy" });
    server = await serveHttp(nodeFetch(app), { port: 0, host: "127.0.0.1" });
    auth = basic("bob", await token("bob", "org/big:write"));
  });
  afterAll(async () => {
    await server?.close(1000);
    await store?.dispose();
  });

  it("aborts, at start, the uploads of its store left by a router that died, and nothing else", async () => {
    const oid = "c".repeat(64);
    const objectKey = `org/big/${oid.slice(0, 2)}/${oid.slice(2, 4)}/${oid}`;
    const crashed = await store.driver.createMultipart(objectKey);
    // Outside the store's prefix: another tenant's upload in the same bucket.
    const foreign = await startRawUpload(store.bucket, "elsewhere/not-ours.bin");
    await new Promise((resolve) => setTimeout(resolve, 2100)); // Ceph dates uploads to the second
    const options = { log: silentLogger() };
    // Younger than the threshold (24 h by default): could be another replica's upload in progress.
    expect(await abortStaleUploads(store.driver, { ...options, olderThanMs: 3_600_000 })).toBe(0);
    expect(await pendingUploads()).toEqual([keyOf(oid)]);
    expect(await abortStaleUploads(store.driver, { ...options, olderThanMs: 1000 })).toBe(1);
    expect(await pendingUploads()).toEqual([]);
    expect(await multipartUploads(store.bucket, "elsewhere/")).toEqual(["elsewhere/not-ours.bin"]);
    await abortRawUpload(store.bucket, "elsewhere/not-ours.bin", foreign);
    await store.driver.abortMultipart(objectKey, crashed);
  });

  it("stores a proxied upload in several parts, byte-identical and downloadable", async () => {
    const body = randomBytes(2 * partSize + 3 * 1024 * 1024 + 7);
    const oid = createHash("sha256").update(body).digest("hex");
    const upload = await batch("upload", oid, body.length);
    const put = await fetch(upload?.actions?.upload?.href ?? "", { method: "PUT", body });
    expect(put.status).toBe(200);
    expect(upload?.actions?.verify).toBeUndefined();

    const head = await headObject(store.bucket, keyOf(oid));
    expect(head.ContentLength).toBe(body.length);
    expect(head.ETag).toMatch(/-3"$/);

    const download = await batch("download", oid, body.length);
    const got = await fetch(download?.actions?.download?.href ?? "");
    expect(got.status).toBe(200);
    const bytes = Buffer.from(await got.arrayBuffer());
    expect(bytes.length).toBe(body.length);
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(oid);
    expect(await pendingUploads()).toEqual([]);
  });

  it("leaves nothing visible and no multipart upload behind when the body does not match its sha256", async () => {
    const probe = await store.driver.createMultipart("probe/in-progress");
    expect(await pendingUploads()).toEqual([`${prefix}probe/in-progress`]);
    await store.driver.abortMultipart("probe/in-progress", probe);

    const announced = randomBytes(2 * partSize + 1024);
    const oid = createHash("sha256").update(announced).digest("hex");
    const upload = await batch("upload", oid, announced.length);
    const forged = Buffer.from(announced);
    forged[forged.length - 1] = (forged.at(-1) ?? 0) ^ 0xff;
    const put = await fetch(upload?.actions?.upload?.href ?? "", { method: "PUT", body: forged });
    expect(put.status).toBe(422);

    await expect(headObject(store.bucket, keyOf(oid))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    expect((await batch("download", oid, announced.length))?.error?.code).toBe(404);
    expect(await pendingUploads()).toEqual([]);
  });
});
