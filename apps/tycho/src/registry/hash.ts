import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/** Hex sha256 of a file (or of its bytes [start, end) when given), streamed. */
export async function sha256File(path: string, range?: { start: number; end: number }): Promise<string> {
  const hash = createHash("sha256");
  if (range && range.end <= range.start) return hash.digest("hex");
  const stream = createReadStream(path, range ? { start: range.start, end: range.end - 1 } : {});
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
