import type { Readable } from "node:stream";

/**
 * Serves SFTP READs (explicit offsets, pipelined) from one open body while they follow each other,
 * and from a new range read when the client seeks. Reads run one at a time in arrival order, so
 * read-ahead is the open body's own buffer (its `highWaterMark`), however many READs are in flight.
 */
export function createRangeReader(open: (offset: number) => Promise<Readable>, size: number) {
  let body: Readable | undefined;
  let chunks: AsyncIterator<Buffer> | undefined;
  let leftover: Buffer = Buffer.alloc(0);
  let position = -1;
  let queue: Promise<unknown> = Promise.resolve();

  function drop() {
    body?.destroy();
    body = undefined;
    chunks = undefined;
    leftover = Buffer.alloc(0);
  }

  async function take(offset: number, length: number): Promise<Buffer | undefined> {
    if (offset >= size) return undefined;
    if (!chunks || offset !== position) {
      drop();
      body = await open(offset);
      body.on("error", () => {});
      chunks = body[Symbol.asyncIterator]();
      position = offset;
    }
    const parts: Buffer[] = [];
    let have = 0;
    while (have < length) {
      let chunk = leftover;
      leftover = Buffer.alloc(0);
      if (chunk.length === 0) {
        const step = await chunks.next();
        if (step.done) break;
        chunk = step.value;
      }
      const used = Math.min(chunk.length, length - have);
      parts.push(chunk.subarray(0, used));
      if (used < chunk.length) leftover = chunk.subarray(used);
      have += used;
    }
    position += have;
    return have === 0 ? undefined : parts.length === 1 ? parts[0] : Buffer.concat(parts, have);
  }

  return {
    /** Up to `length` bytes at `offset`; `undefined` at end of file. */
    read(offset: number, length: number): Promise<Buffer | undefined> {
      const result = queue.then(() => take(offset, length));
      queue = result.catch(() => drop());
      return result;
    },
    close(): void {
      queue = queue.then(drop, drop);
    },
  };
}
