import { posix } from "node:path";
import { WharfError } from "@wharf/errors";

const controlChars = /[\u0000-\u001f\u007f]/;
const rangeChars = /[\s^~<>=*|]/;
const maxBytes = 200;

function checkSegment(kind: string, value: string): void {
  if (value === "" || value === "." || value === "..")
    throw new WharfError("INVALID_ARGUMENT", `Invalid ${kind}: ${JSON.stringify(value)}`);
  if (value.includes("/") || value.includes("\\"))
    throw new WharfError("INVALID_ARGUMENT", `Invalid ${kind}: ${JSON.stringify(value)} contains a slash`);
  if (controlChars.test(value))
    throw new WharfError(
      "INVALID_ARGUMENT",
      `Invalid ${kind}: ${JSON.stringify(value)} contains a control character`,
    );
  if (Buffer.byteLength(value) > maxBytes)
    throw new WharfError("INVALID_ARGUMENT", `Invalid ${kind}: longer than ${maxBytes} bytes`);
}

/** A package is one top-level folder of the bucket: one path segment, not hidden. */
export function validatePackageName(name: string): string {
  checkSegment("package name", name);
  if (name.startsWith("."))
    throw new WharfError(
      "INVALID_ARGUMENT",
      `Invalid package name: ${JSON.stringify(name)} starts with a dot`,
    );
  return name;
}

/**
 * Versions are opaque text to the layout, but a version must be usable as one key segment and must
 * not be mistaken for a range or for `latest` when pulling.
 */
export function validateVersion(version: string): string {
  checkSegment("version", version);
  if (version === "latest") throw new WharfError("INVALID_ARGUMENT", `Invalid version: "latest" is reserved`);
  if (rangeChars.test(version))
    throw new WharfError(
      "INVALID_ARGUMENT",
      `Invalid version: ${JSON.stringify(version)} contains whitespace or a range operator`,
    );
  return version;
}

/** Relative `/`-separated segments, none of them empty, `.` or `..`, no backslash or control character. */
function checkPath(kind: string, value: string): void {
  if (value.startsWith("/"))
    throw new WharfError("INVALID_ARGUMENT", `Invalid ${kind}: ${JSON.stringify(value)} is an absolute path`);
  if (Buffer.byteLength(value) > 1024)
    throw new WharfError("INVALID_ARGUMENT", `Invalid ${kind}: longer than 1024 bytes`);
  for (const segment of value.split("/")) checkSegment(kind, segment);
}

/**
 * The file name a package is pulled to, relative to outdir and normalised: it may name a
 * subfolder (`lib/tool.bin`, `./lib/tool.bin`, as tychoreg allows) but never leaves outdir.
 */
export function validateLocalName(filename: string): string {
  const normal = posix.normalize(filename);
  if (normal === ".." || normal.startsWith("../") || filename.includes("\\"))
    throw new WharfError("INVALID_ARGUMENT", `Invalid filename: ${JSON.stringify(filename)} leaves outdir`);
  checkPath("filename", normal);
  return normal;
}

/**
 * A version named on the command line to read or manage. Looser than {@link validateVersion}:
 * tychoreg let versions contain `/` (`release/1.0` is the key `<pkg>/tycho_release/1.0.pkg`), and
 * those can be read, promoted, yanked and pulled; tycho only refuses to create new ones.
 */
export function validateVersionRef(version: string): string {
  checkPath("version", version);
  return version;
}
