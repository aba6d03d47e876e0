import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { readAll } from "./body.ts";

describe("readAll", () => {
  it("returns a copy the caller owns by default", async () => {
    const source = Buffer.from("part bytes");
    const result = await readAll(source);
    source.fill(0);
    expect(result.toString()).toBe("part bytes");
  });

  it("with copy: false hands back the caller's buffer itself, for a part sent before it is reused", async () => {
    const backing = Buffer.from("xxpart bytesxx");
    const view = backing.subarray(2, 12);
    const result = await readAll(view, { copy: false });
    expect(result.toString()).toBe("part bytes");
    backing.fill(0x41);
    expect(result.toString()).toBe("AAAAAAAAAA");
  });

  it("with copy: false still joins a stream of several chunks and enforces maxBytes", async () => {
    expect(
      (await readAll(Readable.from([Buffer.from("ab"), Buffer.from("cd")]), { copy: false })).toString(),
    ).toBe("abcd");
    await expect(readAll(Buffer.alloc(10), { maxBytes: 5, copy: false })).rejects.toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
    });
  });
});
