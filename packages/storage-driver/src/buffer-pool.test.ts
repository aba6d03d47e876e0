import { describe, expect, it } from "vitest";
import { BufferPool } from "./buffer-pool.ts";

describe("BufferPool", () => {
  it("hands back the buffers given to it, keeping at most `keep`, and ignores other sizes", () => {
    const pool = new BufferPool(16, 2);
    const [a, b, c] = [pool.take(), pool.take(), pool.take()];
    expect(a.length).toBe(16);
    for (const buffer of [a, b, c, Buffer.alloc(8)]) pool.give(buffer);
    const again = [pool.take(), pool.take(), pool.take()];
    // toContain compares with ===: the very same buffers come back, the third is new.
    expect([a, b]).toContain(again[0]);
    expect([a, b]).toContain(again[1]);
    expect(again[0]).not.toBe(again[1]);
    expect([a, b, c]).not.toContain(again[2]);
    expect(again[2]!.length).toBe(16);
  });
});
