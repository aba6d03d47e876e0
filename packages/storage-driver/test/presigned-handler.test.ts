import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../src/conformance/data.ts";
import { createFsDriver, type FsPresignOptions } from "../src/drivers/fs/fs.ts";
import { handlePresignedRequest } from "../src/presigned-handler.ts";
import type { StorageDriver } from "../src/types.ts";

const presign: FsPresignOptions = {
  baseUrl: "http://app.test/files",
  credentials: { accessKeyId: "LOCALKEY", secretAccessKey: "local-secret" },
};
let root: string;
let driver: StorageDriver;
const serve = (request: Request) => handlePresignedRequest(driver, request, presign);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "wharf-presign-"));
  driver = createFsDriver({ root, presign });
  await driver.put("dir/hello world.txt", "0123456789", { contentType: "text/plain" });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("handlePresignedRequest", () => {
  it("serves a presigned GET with a Range as 206", async () => {
    const { url } = await driver.presign("dir/hello world.txt", { method: "GET", expiresIn: 60 });
    const response = await serve(new Request(url, { headers: { range: "bytes=2-4" } }));
    expect(response.status).toBe(206);
    expect(response.headers.get("content-range")).toBe("bytes 2-4/10");
    expect(await response.text()).toBe("234");
  });

  it("answers HEAD with the object's headers and no body", async () => {
    const { url } = await driver.presign("dir/hello world.txt", { method: "HEAD", expiresIn: 60 });
    const response = await serve(new Request(url, { method: "HEAD" }));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-length")).toBe("10");
    expect(response.headers.get("content-type")).toBe("text/plain");
  });

  it("refuses a tampered URL with 403", async () => {
    const { url } = await driver.presign("dir/hello world.txt", { method: "GET", expiresIn: 60 });
    const response = await serve(new Request(url.replace("hello%20world", "other")));
    expect(response.status).toBe(403);
  });

  it("refuses a PUT whose body does not match the signed sha256", async () => {
    const put = await driver.presign("uploads/checked", {
      method: "PUT",
      expiresIn: 60,
      sha256: sha256Hex("expected"),
    });
    const bad = await serve(new Request(put.url, { method: "PUT", headers: put.headers, body: "different" }));
    expect(bad.status).toBe(400);
    await expect(driver.head("uploads/checked")).rejects.toMatchObject({ code: "NOT_FOUND" });
    const good = await serve(new Request(put.url, { method: "PUT", headers: put.headers, body: "expected" }));
    expect(good.status).toBe(200);
  });

  it("refuses a URL signed for another method", async () => {
    const { url } = await driver.presign("dir/hello world.txt", { method: "GET", expiresIn: 60 });
    const response = await serve(new Request(url, { method: "PUT", body: "x" }));
    expect(response.status).toBe(403);
  });
});
