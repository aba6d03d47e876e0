import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createBlockArena } from "./block-arena.ts";
import { createDigester } from "./digester.ts";
import { createDigests } from "./digests.ts";
import { InOrderHasher } from "./in-order-hasher.ts";

const md5 = (data: Buffer) => createHash("md5").update(data).digest();
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

describe("createDigests", () => {
  it("recomputes single-part and multipart S3 ETags", () => {
    const data = randomBytes(10_000);
    const whole = createDigests({ kind: "md5" });
    const parts = createDigests({ kind: "multipart", partSize: 4096, parts: 3 });
    for (let offset = 0; offset < data.length; offset += 1000) {
      whole.update(data.subarray(offset, offset + 1000));
      parts.update(data.subarray(offset, offset + 1000));
    }
    expect(whole.etag()).toBe(md5(data).toString("hex"));
    const expected = md5(
      Buffer.concat([md5(data.subarray(0, 4096)), md5(data.subarray(4096, 8192)), md5(data.subarray(8192))]),
    );
    expect(parts.etag()).toBe(`${expected.toString("hex")}-3`);
    expect(parts.sha256()).toBe(sha256(data));
  });
});

describe("InOrderHasher", () => {
  it("hashes parts that arrive out of order in file order, reading back what overflows the window", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tycho-hasher-"));
    try {
      const blockSize = 1024;
      const data = randomBytes(4 * 4 * blockSize + 100);
      const path = join(dir, "file");
      await writeFile(path, data);
      const file = await open(path, "r");
      const partSize = 4 * blockSize;
      const ranges = Array.from({ length: 5 }, (_, index) => ({
        start: index * partSize,
        end: Math.min((index + 1) * partSize, data.length),
      }));
      const arena = createBlockArena({ blocks: 8, blockSize });
      const digester = createDigester({ arena });
      // Part 1 was on disk already (a resumed download); a window of 3 blocks forces read-backs.
      const hasher = new InOrderHasher({
        ranges,
        done: new Set([1]),
        digester,
        file,
        windowBytes: 3 * blockSize,
        take: arena.take,
        release: arena.give,
      });
      for (const index of [4, 3, 0, 2]) {
        const { start, end } = ranges[index] as { start: number; end: number };
        for (let position = start; position < end; position += blockSize) {
          const block = arena.take();
          const length = Math.min(blockSize, end - position);
          data.copy(block, 0, position, position + length);
          hasher.accept(index, position, block.subarray(0, length));
        }
        hasher.complete(index);
      }
      await hasher.finish();
      expect(digester.finish().sha256).toBe(sha256(data));
      await file.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
