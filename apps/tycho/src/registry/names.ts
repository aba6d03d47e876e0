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

/** The file name a package is pulled to: never a path, so a bucket cannot write outside outdir. */
export function validateLocalName(filename: string): string {
  checkSegment("filename", filename);
  return filename;
}

/** A version named on the command line to read or manage: any key segment (tychoreg allowed more). */
export function validateVersionRef(version: string): string {
  checkSegment("version", version);
  return version;
}
