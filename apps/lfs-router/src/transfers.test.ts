import { Readable } from "node:stream";
import { createMemoryDriver, type StorageDriver } from "@wharf/storage-driver";
import { describe, expect, it } from "vitest";
import { createLayout } from "./layout.ts";
import { createLinkSigner } from "./links.ts";
import { blob } from "./test-support.ts";
import { createTransfers } from "./transfers.ts";

/** The memory driver, plus a presign that records what it was asked to sign. */
function presigningDriver() {
  const base = createMemoryDriver();
  const signed: { key: string; sha256?: string; contentLength?: number }[] = [];
  const driver: StorageDriver = {
    ...base,
    name: "s3",
    capabilities: { ...base.capabilities, presign: true },
    async presign(key, options) {
      signed.push({
        key,
        ...(options.sha256 ? { sha256: options.sha256 } : {}),
        ...(options.contentLength !== undefined ? { contentLength: options.contentLength } : {}),
      });
      const headers: Record<string, string> = options.sha256 ? { "x-amz-checksum-sha256": "bound" } : {};
      return {
        url: `https://store.test/${key}?X-Amz-Signature=x`,
        method: options.method,
        headers,
        expiresAt: new Date(),
      };
    },
  };
  return { driver, signed };
}

const layout = createLayout("lfs/");
const links = createLinkSigner("secret");

describe("direct transfers", () => {
  it("binds the sha256 into the upload URL of a store that enforces it, and uploads to the object's key", async () => {
    const { driver, signed } = presigningDriver();
    const t = createTransfers({
      driver,
      layout,
      links,
      mode: "direct",
      storeEnforcesSha256: true,
      expiresIn: 60,
    });
    const b = blob("enforced");
    const actions = await t.uploadActions({ repo: "org/repo", oid: b.oid, size: b.size }, "http://router");
    expect(signed).toEqual([
      { key: layout.objectKey("org/repo", b.oid), sha256: b.oid, contentLength: b.size },
    ]);
    expect(actions.upload).toMatchObject({ header: { "x-amz-checksum-sha256": "bound" }, expires_in: 60 });
    expect(actions.verify?.href).toMatch(
      /^http:\/\/router\/org\/repo\/info\/lfs\/objects\/[0-9a-f]{64}\/verify\?/,
    );
    await driver.put(layout.objectKey("org/repo", b.oid), b.data);
    await expect(
      t.verify({ repo: "org/repo", oid: b.oid, size: b.size }, undefined),
    ).resolves.toBeUndefined();
    await expect(
      t.verify({ repo: "org/repo", oid: b.oid, size: b.size + 1 }, undefined),
    ).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("stages uploads on a store that ignores the checksum and publishes them only when they match", async () => {
    const { driver, signed } = presigningDriver();
    const t = createTransfers({
      driver,
      layout,
      links,
      mode: "direct",
      storeEnforcesSha256: false,
      expiresIn: 60,
    });
    const b = blob("staged");
    const actions = await t.uploadActions({ repo: "org/repo", oid: b.oid, size: b.size }, "http://router");
    const staging = signed[0]?.key ?? "";
    expect(staging.startsWith("lfs/_lfs/staging/org/repo/")).toBe(true);
    const nonce = new URL(actions.verify?.href ?? "").searchParams.get("nonce") ?? undefined;
    await driver.put(staging, "forged");
    await expect(t.verify({ repo: "org/repo", oid: b.oid, size: b.size }, nonce)).rejects.toMatchObject({
      code: "CHECKSUM_MISMATCH",
    });
    await expect(driver.head(layout.objectKey("org/repo", b.oid))).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(driver.head(staging)).rejects.toMatchObject({ code: "NOT_FOUND" });

    await driver.put(staging, b.data);
    await t.verify({ repo: "org/repo", oid: b.oid, size: b.size }, nonce);
    expect((await driver.head(layout.objectKey("org/repo", b.oid))).size).toBe(b.size);
    await expect(driver.head(staging)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("sends objects over 5 GiB through the router even in direct mode", async () => {
    const { driver, signed } = presigningDriver();
    const t = createTransfers({
      driver,
      layout,
      links,
      mode: "direct",
      storeEnforcesSha256: true,
      expiresIn: 60,
    });
    const actions = await t.uploadActions(
      { repo: "org/repo", oid: blob("x").oid, size: 6 * 1024 ** 3 },
      "http://router",
    );
    expect(signed).toEqual([]);
    expect(actions.upload.href.startsWith("http://router/org/repo/info/lfs/objects/")).toBe(true);
    expect(actions.verify).toBeUndefined();
  });

  it("presigns downloads in direct mode", async () => {
    const { driver } = presigningDriver();
    const t = createTransfers({
      driver,
      layout,
      links,
      mode: "direct",
      storeEnforcesSha256: true,
      expiresIn: 60,
    });
    const b = blob("down");
    const action = await t.downloadAction({ repo: "org/repo", oid: b.oid, size: b.size }, "http://router");
    expect(action.href).toBe(`https://store.test/${layout.objectKey("org/repo", b.oid)}?X-Amz-Signature=x`);
  });
});

describe("proxied transfers", () => {
  it("hands out no verify action, and still answers the verify link of an older batch response", async () => {
    const driver = createMemoryDriver();
    const t = createTransfers({
      driver,
      layout,
      links,
      mode: "proxy",
      storeEnforcesSha256: false,
      expiresIn: 60,
    });
    const b = blob("received");
    const object = { repo: "org/repo", oid: b.oid, size: b.size };
    const actions = await t.uploadActions(object, "http://router");
    expect(Object.keys(actions)).toEqual(["upload"]);
    await expect(t.verify(object, undefined)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await t.receive(object, Readable.from([b.data]));
    await t.verify(object, undefined);
    await expect(t.verify({ ...object, size: b.size + 1 }, undefined)).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });

  it("refuses a received body whose sha256 does not match and remembers nothing", async () => {
    const t = createTransfers({
      driver: createMemoryDriver(),
      layout,
      links,
      mode: "proxy",
      storeEnforcesSha256: false,
      expiresIn: 60,
    });
    const b = blob("expected body");
    const object = { repo: "org/repo", oid: b.oid, size: b.size };
    await expect(t.receive(object, Readable.from([Buffer.from("a forged body")]))).rejects.toMatchObject({
      code: "CHECKSUM_MISMATCH",
    });
    await expect(t.verify(object, undefined)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
