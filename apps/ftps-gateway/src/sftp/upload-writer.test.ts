import type { Readable } from "node:stream";
import { readAll } from "@wharf/storage-driver";
import { describe, expect, it } from "vitest";
import { createUploadWriter, type UploadWriterOptions } from "./upload-writer.ts";

/** A writer whose store collects the body; `stored()` is what a store would have kept. */
function collecting(options: Partial<UploadWriterOptions> = {}) {
  let result: { base: number; bytes: Buffer } | undefined;
  const writer = createUploadWriter({
    windowBytes: 100,
    createIfEmpty: true,
    store: async (body: Readable, base: number) => {
      const bytes = await readAll(body);
      result = { base, bytes };
    },
    ...options,
  });
  return { writer, stored: () => result };
}

const bytes = (text: string) => Buffer.from(text);

describe("createUploadWriter", () => {
  it("streams in-order writes and stores them on close", async () => {
    const { writer, stored } = collecting();
    await writer.write(0, bytes("hello "));
    await writer.write(6, bytes("world"));
    expect(writer.size()).toBe(11);
    await writer.close();
    expect(stored()).toEqual({ base: 0, bytes: bytes("hello world") });
  });

  it("puts writes that arrive out of order back in order within the window", async () => {
    const { writer, stored } = collecting();
    await writer.write(6, bytes("world"));
    await writer.write(3, bytes("lo "));
    await writer.write(0, bytes("hel"));
    await writer.close();
    expect(stored()?.bytes.toString()).toBe("hello world");
  });

  it("fails CLOSE with INVALID_ARGUMENT when a hole is left, and stores nothing", async () => {
    const { writer, stored } = collecting();
    await writer.write(0, bytes("abc"));
    await writer.write(10, bytes("xyz"));
    await expect(writer.close()).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(stored()).toBeUndefined();
  });

  it("refuses a write beyond the reordering window", async () => {
    const { writer, stored } = collecting({ windowBytes: 4 });
    await writer.write(0, bytes("a"));
    await expect(writer.write(5, bytes("too far"))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(writer.close()).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(stored()).toBeUndefined();
  });

  it("refuses a rewrite of bytes already sent with UNSUPPORTED", async () => {
    const { writer, stored } = collecting();
    await writer.write(0, bytes("abcdef"));
    await expect(writer.write(2, bytes("XY"))).rejects.toMatchObject({ code: "UNSUPPORTED" });
    await expect(writer.close()).rejects.toMatchObject({ code: "UNSUPPORTED" });
    expect(stored()).toBeUndefined();
  });

  it("continues an existing file when the first write comes at its end", async () => {
    const { writer, stored } = collecting({ resumeFrom: 4, createIfEmpty: false });
    await writer.write(4, bytes("more"));
    await writer.close();
    expect(stored()).toEqual({ base: 4, bytes: bytes("more") });
  });

  it("stores an empty file on a close without writes, unless the file is kept as it was", async () => {
    const created = collecting();
    await created.writer.close();
    expect(created.stored()).toEqual({ base: 0, bytes: Buffer.alloc(0) });
    const kept = collecting({ resumeFrom: 4, createIfEmpty: false });
    await kept.writer.close();
    expect(kept.stored()).toBeUndefined();
  });

  it("in append mode refuses a first write that is not at the end", async () => {
    const { writer } = collecting({ resumeFrom: 4, resumeOnly: true, createIfEmpty: false });
    await expect(writer.write(0, bytes("x"))).rejects.toMatchObject({ code: "UNSUPPORTED" });
  });

  it("stores nothing after abort", async () => {
    const { writer, stored } = collecting();
    await writer.write(0, bytes("partial"));
    await writer.abort();
    expect(stored()).toBeUndefined();
  });
});
