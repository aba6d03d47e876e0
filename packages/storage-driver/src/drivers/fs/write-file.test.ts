import { createHash, randomBytes } from "node:crypto";
import { constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { fdsOn, openFlagsOn } from "../../../test/fixtures/open-fds.ts";
import { readBatches, writeNewFile } from "./write-file.ts";

const dir = mkdtempSync(join(tmpdir(), "fs-write-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** A stream of chunks of uneven sizes, as a socket delivers them. */
function chunksOf(bytes: Buffer, sizes: number[]): Readable {
  return Readable.from(
    (function* () {
      let at = 0;
      for (let i = 0; at < bytes.length; i++) {
        const size = sizes[i % sizes.length]!;
        yield bytes.subarray(at, at + size);
        at += size;
      }
    })(),
  );
}

describe("writeNewFile", () => {
  it("stores every byte in order across batches, background syncs and an uneven tail", async () => {
    // 40 MiB + 17 bytes: several 1 MiB batches, at least one sync ahead, a last short batch.
    const bytes = randomBytes(40 * 1024 * 1024 + 17);
    const path = join(dir, "big");
    const seen = createHash("sha256");
    const written = await writeNewFile(path, chunksOf(bytes, [65536, 1000, 29696, 7]), {
      flush: true,
      durable: true,
      onData: (chunk) => seen.update(chunk),
    });
    expect(sha(readFileSync(path))).toBe(sha(bytes));
    expect(seen.digest("hex")).toBe(sha(bytes));
    expect(written.size).toBe(bytes.length);
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
    await expect(
      writeNewFile(path, Readable.from(failing()), { flush: true, durable: true }),
    ).rejects.toThrow("client went away");
    expect(fdsOn(path)).toBe(0);
  });

  it("writes a body held in memory as it is", async () => {
    const path = join(dir, "memory");
    const bytes = randomBytes(100_000);
    const written = await writeNewFile(path, bytes, { flush: true, durable: true });
    expect(sha(readFileSync(path))).toBe(sha(bytes));
    expect(written.size).toBe(bytes.length);
  });

  it("fails with ERR_STREAM_PREMATURE_CLOSE on a body closed before its end (a client gone mid-upload)", async () => {
    const path = join(dir, "cut");
    const body = new PassThrough();
    body.write(Buffer.alloc(70_000, 2));
    setImmediate(() => body.destroy());
    await expect(writeNewFile(path, body, { flush: true, durable: true })).rejects.toMatchObject({
      code: "ERR_STREAM_PREMATURE_CLOSE",
    });
    expect(fdsOn(path)).toBe(0);
  });

  it("fails with the signal's reason once it aborts, and with what onData throws", async () => {
    const controller = new AbortController();
    const endless = new PassThrough();
    endless.write(Buffer.alloc(1000));
    setImmediate(() => controller.abort(new Error("stopped")));
    await expect(
      writeNewFile(join(dir, "aborted"), endless, {
        flush: false,
        durable: false,
        signal: controller.signal,
      }),
    ).rejects.toThrow("stopped");
    // The body's owner destroys it with an error after the abort: nothing is left to catch it but us.
    endless.destroy(new Error("data connection closed"));
    await new Promise((resolve) => setImmediate(resolve));
    const tooLong = () => {
      throw new Error("longer than declared");
    };
    await expect(
      writeNewFile(join(dir, "limited"), chunksOf(Buffer.alloc(5000), [1000]), {
        flush: false,
        durable: false,
        onData: tooLong,
      }),
    ).rejects.toThrow("longer than declared");
    expect(fdsOn(join(dir, "limited"))).toBe(0);
  });

  it("pauses the body while a batch waits for the disk, so memory stays at about two batches", async () => {
    const body = new PassThrough({ highWaterMark: 64 * 1024 });
    const handed: number[] = [];
    let release = () => {};
    const reading = readBatches(body, {}, (_batch, bytes) => {
      handed.push(bytes);
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    const chunk = Buffer.alloc(64 * 1024, 3);
    let produced = 0;
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 64 && handed.length === 0; i++) {
      body.write(chunk);
      produced += chunk.length;
      await tick();
    }
    expect(handed).toEqual([1024 * 1024]);
    // The writer has not finished that batch: the body stays paused, and the producer is held back.
    let backpressure = false;
    for (let i = 0; i < 40 && !backpressure; i++) {
      backpressure = !body.write(chunk);
      produced += chunk.length;
      await tick();
    }
    expect(backpressure).toBe(true);
    expect(body.isPaused()).toBe(true);
    expect(handed).toHaveLength(1);
    body.end();
    let done = false;
    void reading.then(() => {
      done = true;
    });
    while (!done) {
      release();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(handed.reduce((sum, bytes) => sum + bytes, 0)).toBe(produced);
  });

  it("writes a flushed body of one batch through O_DSYNC (durable in its write), a larger one without", async () => {
    const flagsWhileWriting = async (name: string, size: number, flush: boolean) => {
      const path = join(dir, name);
      const body = new PassThrough();
      const writing = writeNewFile(path, body, { flush, durable: flush, size });
      body.write(Buffer.alloc(10));
      await new Promise((resolve) => setImmediate(resolve));
      const flags = openFlagsOn(path);
      body.end(Buffer.alloc(size - 10));
      await writing;
      expect(flags).toHaveLength(1);
      return (flags[0] ?? 0) & constants.O_DSYNC;
    };
    expect(await flagsWhileWriting("small", 64 * 1024, true)).toBe(constants.O_DSYNC);
    expect(await flagsWhileWriting("small-unflushed", 64 * 1024, false)).toBe(0);
    expect(await flagsWhileWriting("large", 3 * 1024 * 1024, true)).toBe(0);
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
