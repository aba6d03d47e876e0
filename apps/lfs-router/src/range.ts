import type { ByteRange } from "@wharf/storage-driver";

/**
 * One byte range from a `Range` header (`bytes=0-99`, `bytes=100-`, `bytes=-50`), or `undefined`
 * when the header is absent, malformed or asks for several ranges: RFC 9110 lets the server then
 * answer with the whole body.
 */
export function parseRange(header: string | undefined): ByteRange | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, from, to] = match as unknown as [string, string, string];
  if (from === "" && to === "") return undefined;
  if (from === "") return { suffix: Number(to) };
  const start = Number(from);
  if (to === "") return { start };
  const end = Number(to);
  if (end < start || !Number.isSafeInteger(end)) return undefined;
  return { start, end };
}
