import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fdsOn } from "../../test/fixtures/open-fds.ts";
import { writeNewFile } from "./fs-write.ts";

const dir = mkdtempSync(join(tmpdir(), "fs-write-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** Chunks of uneven sizes, as a socket delivers them. */
async function* chunksOf(bytes: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length]!;
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

describe("writeNewFile", () => {
  it("stores every byte in order across batches, background syncs and an uneven tail", async () => {
    // 40 MiB + 17 bytes: several 1 MiB batches, at least one sync ahead, a last short batch.
    const bytes = randomBytes(40 * 1024 * 1024 + 17);
    const path = join(dir, "big");
    await writeNewFile(path, chunksOf(bytes, [65536, 1000, 29696, 7]), { flush: true, durable: true });
    expect(sha(readFileSync(path))).toBe(sha(bytes));
    expect(fdsOn(path)).toBe(0);
  });

  it("writes an empty body as an empty file", async () => {
    const path = join(dir, "empty");
    await writeNewFile(path, chunksOf(Buffer.alloc(0), [1]), { flush: false, durable: false });
    expect(readFileSync(path).length).toBe(0);
  });

  it("fails on a body that fails, after closing the file (no descriptor left open)", async () => {
    const path = join(dir, "broken");
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(3 * 1024 * 1024, 1);
      throw new Error("client went away");
    }
    await expect(writeNewFile(path, failing(), { flush: true, durable: true })).rejects.toThrow(
      "client went away",
    );
    expect(fdsOn(path)).toBe(0);
  });

  it("never replaces an existing file", async () => {
    const path = join(dir, "taken");
    writeFileSync(path, "first");
    await expect(
      writeNewFile(path, chunksOf(Buffer.from("second"), [6]), { flush: false, durable: false }),
    ).rejects.toMatchObject({ code: "EEXIST" });
    expect(readFileSync(path, "utf8")).toBe("first");
  });
});
