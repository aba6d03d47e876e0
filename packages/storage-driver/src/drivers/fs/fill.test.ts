import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { readAll } from "../../body.ts";
import type { FillableBody } from "../../types.ts";
import { createFsDriver } from "./fs.ts";

const root = mkdtempSync(join(tmpdir(), "fs-fill-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const driver = createFsDriver({ root });

/**
 * A body that fills the driver's buffers from `data` in uneven steps, as a socket read with onread
 * does; `failAt` makes the fill that reaches that byte fail. Reading it as a stream is an error, so
 * a test passes only if the driver really used `fill`.
 */
class FakeFillable extends Readable implements FillableBody {
  #at = 0;
  fills = 0;
  readonly data: Buffer;
  readonly failAt: number | undefined;
  constructor(data: Buffer, failAt?: number) {
    super();
    this.data = data;
    this.failAt = failAt;
  }
  override _read(): void {
    this.destroy(new Error("read as a stream"));
  }
  async fill(target: Buffer, offset: number): Promise<number> {
    this.fills++;
    await new Promise((resolve) => setImmediate(resolve));
    const n = Math.min(target.length - offset, this.data.length - this.#at);
    if (this.failAt !== undefined && this.#at + n >= this.failAt) throw new Error("connection reset");
    this.data.copy(target, offset, this.#at, this.#at + n);
    this.#at += n;
    return n;
  }
}

const md5 = (bytes: Buffer) => createHash("md5").update(bytes).digest("hex");
const staged = () => readdirSync(join(root, ".wharf-storage", "staging")).length;

describe("fs driver with a body that fills its buffers", () => {
  it("stores every byte and gives the md5 etag", async () => {
    const data = randomBytes(3 * 1024 * 1024 + 99);
    const body = new FakeFillable(data);
    const info = await driver.put("filled/big.bin", body);
    expect(body.fills).toBeGreaterThan(3);
    expect(info.size).toBe(data.length);
    expect(info.etag).toBe(md5(data));
    expect((await readAll((await driver.get("filled/big.bin")).body)).equals(data)).toBe(true);
  });

  it("refuses a body longer than the declared size and stores nothing", async () => {
    const body = new FakeFillable(randomBytes(2 * 1024 * 1024));
    await expect(driver.put("filled/long.bin", body, { size: 1024 * 1024 })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    await expect(driver.head("filled/long.bin")).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(staged()).toBe(0);
  });

  it("leaves the old object in place when the body fails midway", async () => {
    await driver.put("filled/kept.bin", Buffer.from("old"));
    const body = new FakeFillable(randomBytes(3 * 1024 * 1024), 2 * 1024 * 1024);
    await expect(driver.put("filled/kept.bin", body)).rejects.toBeDefined();
    expect((await readAll((await driver.get("filled/kept.bin")).body)).toString()).toBe("old");
    expect(staged()).toBe(0);
  });

  it("stops at the signal's abort with CANCELLED", async () => {
    const controller = new AbortController();
    const body = new FakeFillable(randomBytes(8 * 1024 * 1024));
    const put = driver.put("filled/aborted.bin", body, { signal: controller.signal });
    setImmediate(() => controller.abort());
    await expect(put).rejects.toMatchObject({ code: "CANCELLED" });
    await expect(driver.head("filled/aborted.bin")).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(staged()).toBe(0);
  });
});
