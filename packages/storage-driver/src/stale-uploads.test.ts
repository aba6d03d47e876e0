import { mkdtemp, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WharfError } from "@wharf/errors";
import { describe, expect, it } from "vitest";
import { createFsDriver } from "./drivers/fs/fs.ts";
import { createMemoryDriver } from "./drivers/memory/memory.ts";
import { abortStaleUploads, countStaleUploads } from "./stale-uploads.ts";

describe("abortStaleUploads", () => {
  it("aborts the uploads under the prefix older than the threshold, nothing else (fs driver)", async () => {
    const root = await mkdtemp(join(tmpdir(), "wharf-stale-uploads-"));
    const driver = createFsDriver({ root });
    try {
      const old = await driver.createMultipart("home/crashed.bin");
      const young = await driver.createMultipart("home/uploading.bin");
      const elsewhere = await driver.createMultipart("other/crashed.bin");
      const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000);
      for (const id of [old, elsewhere])
        await utimes(join(root, ".wharf-storage", "uploads", id, "upload.json"), twoHoursAgo, twoHoursAgo);
      expect(await countStaleUploads(driver, { olderThanMs: 3600 * 1000, prefix: "home/" })).toBe(1);
      expect(await countStaleUploads(driver, { olderThanMs: 3600 * 1000 })).toBe(2);
      expect(await abortStaleUploads(driver, { olderThanMs: 0, prefix: "home/" })).toBe(0); // off
      expect(await abortStaleUploads(driver, { olderThanMs: 3600 * 1000, prefix: "home/" })).toBe(1);
      await expect(driver.listParts("home/crashed.bin", old)).rejects.toMatchObject({ code: "NOT_FOUND" });
      expect(await driver.listParts("home/uploading.bin", young)).toEqual([]);
      expect(await driver.listParts("other/crashed.bin", elsewhere)).toEqual([]);
      expect(await countStaleUploads(driver, { olderThanMs: 3600 * 1000, prefix: "home/" })).toBe(0);
    } finally {
      await driver.close();
      await rm(root, { recursive: true, force: true });
    }
  });

  it("measures the age with the clock it is given", async () => {
    const driver = createMemoryDriver();
    const id = await driver.createMultipart("a/b.bin");
    const later = () => Date.now() + 2 * 3600 * 1000;
    expect(await abortStaleUploads(driver, { olderThanMs: 3 * 3600 * 1000, now: later })).toBe(0);
    expect(await abortStaleUploads(driver, { olderThanMs: 3600 * 1000, now: later })).toBe(1);
    await expect(driver.listParts("a/b.bin", id)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("with a log, reports a store that fails instead of rejecting", async () => {
    const broken = createMemoryDriver();
    broken.listMultipartUploads = () => {
      throw new WharfError("UNAVAILABLE", "store unreachable");
    };
    const warnings: string[] = [];
    const log = { info: () => {}, warn: (_fields: object, message: string) => warnings.push(message) };
    expect(await abortStaleUploads(broken, { olderThanMs: 1000, log })).toBe(0);
    expect(warnings).toEqual(["could not look for abandoned multipart uploads"]);
    await expect(abortStaleUploads(broken, { olderThanMs: 1000 })).rejects.toMatchObject({
      code: "UNAVAILABLE",
    });
  });
});
