import { WharfError } from "@wharf/errors";
import type { ByteRange } from "./types.ts";

/** Resolves an HTTP-style range against an object size, or throws `RANGE_NOT_SATISFIABLE`. */
export function resolveRange(range: ByteRange, total: number): { start: number; end: number; total: number } {
  const unsatisfiable = () =>
    new WharfError("RANGE_NOT_SATISFIABLE", `range not satisfiable for an object of ${total} bytes`, {
      details: { total },
    });
  if ("suffix" in range) {
    if (!Number.isSafeInteger(range.suffix) || range.suffix < 0) {
      throw new WharfError("INVALID_ARGUMENT", "range suffix must be a non-negative integer");
    }
    if (range.suffix === 0 || total === 0) throw unsatisfiable();
    return { start: Math.max(0, total - range.suffix), end: total - 1, total };
  }
  const { start, end } = range;
  if (
    !Number.isSafeInteger(start) ||
    start < 0 ||
    (end !== undefined && (!Number.isSafeInteger(end) || end < start))
  ) {
    throw new WharfError("INVALID_ARGUMENT", "range must have 0 <= start <= end");
  }
  if (start >= total) throw unsatisfiable();
  return { start, end: Math.min(end ?? total - 1, total - 1), total };
}
