import { WharfError } from "@wharf/errors";

/** First key segment reserved for driver bookkeeping (fs staging, locks and metadata; s3 claims). */
export const RESERVED_SEGMENT = ".wharf-storage";

/** Longest key or prefix, in UTF-8 bytes (as S3). */
export const MAX_KEY_BYTES = 1024;

const controlCharacters = /[\u0000-\u001f\u007f]/;

function invalid(kind: string, value: string, why: string): WharfError {
  return new WharfError("INVALID_ARGUMENT", `invalid ${kind} ${JSON.stringify(value)}: ${why}`, {
    details: { [kind]: value },
  });
}

function checkCharacters(kind: string, value: string): void {
  if (!value.isWellFormed()) throw invalid(kind, value, "not valid Unicode");
  if (Buffer.byteLength(value, "utf8") > MAX_KEY_BYTES) {
    throw invalid(kind, value, `longer than ${MAX_KEY_BYTES} UTF-8 bytes`);
  }
  if (controlCharacters.test(value)) throw invalid(kind, value, "contains NUL or a control character");
  if (value.includes("\\")) throw invalid(kind, value, "contains a backslash");
  if (value.startsWith("/")) throw invalid(kind, value, "starts with /");
}

function checkSegment(kind: string, value: string, segment: string, index: number): void {
  if (segment === "") throw invalid(kind, value, "contains an empty path segment");
  if (segment === "." || segment === "..") throw invalid(kind, value, `contains a "${segment}" segment`);
  if (index === 0 && segment === RESERVED_SEGMENT) {
    throw invalid(kind, value, `keys under ${RESERVED_SEGMENT}/ are reserved`);
  }
}

/**
 * Throws `INVALID_ARGUMENT` unless `key` is a portable object key: non-empty, at most 1024 UTF-8
 * bytes, no control characters, no backslash, no leading or trailing `/` (one trailing `/` with
 * `folderMarker`), no empty, `.` or `..` segments, and not under the reserved `.wharf-storage/` folder.
 *
 * @example
 * validateKey("photos/2024/cat.jpg"); // ok
 * validateKey("../etc/passwd"); // throws INVALID_ARGUMENT
 */
export function validateKey(key: string, options: KeyOptions = {}): void {
  if (typeof key !== "string" || key === "") throw invalid("key", String(key), "empty");
  checkCharacters("key", key);
  const body = options.folderMarker && key.endsWith("/") ? key.slice(0, -1) : key;
  if (body.endsWith("/") || body === "") {
    throw invalid("key", key, options.folderMarker ? "ends with //" : "ends with /");
  }
  for (const [index, segment] of body.split("/").entries()) checkSegment("key", key, segment, index);
}

export interface KeyOptions {
  /**
   * Also accept one trailing `/`: an S3 folder marker such as `photos/2024/` (drivers that declare
   * `capabilities.folderMarkers`).
   */
  readonly folderMarker?: boolean;
}

/**
 * Throws `INVALID_ARGUMENT` unless `prefix` is a usable listing prefix. The empty prefix is allowed;
 * complete segments follow the key rules; the last, partial segment may be anything printable.
 *
 * @example
 * validatePrefix("photos/20"); // ok
 * validatePrefix("a/../"); // throws INVALID_ARGUMENT
 */
export function validatePrefix(prefix: string): void {
  if (typeof prefix !== "string") throw invalid("prefix", String(prefix), "not a string");
  if (prefix === "") return;
  checkCharacters("prefix", prefix);
  const segments = prefix.split("/");
  segments.pop();
  for (const [index, segment] of segments.entries()) checkSegment("prefix", prefix, segment, index);
}
