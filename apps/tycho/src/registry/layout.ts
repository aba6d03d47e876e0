/**
 * The bucket layout of the original `tychoreg`, kept byte for byte so either tool reads what the
 * other wrote:
 *   <pkg>/tycho.json            {"localname": "...", "latest": "..." | null}  (indent 2)
 *   <pkg>/tycho_<version>.pkg   the pushed file
 * Tycho adds `<pkg>/tycho_<version>.pkg.claim` while a push is in flight (never listed as a
 * version by either tool: it does not end in `.pkg`) and user metadata on the `.pkg` object.
 */
export const metaKey = (pkg: string): string => `${pkg}/tycho.json`;
export const versionPrefix = (pkg: string): string => `${pkg}/tycho_`;
export const packageKey = (pkg: string, version: string): string => `${pkg}/tycho_${version}.pkg`;
export const claimKey = (pkg: string, version: string): string => `${packageKey(pkg, version)}.claim`;

/** The version a listed key stands for, or undefined when the key is not a version object. */
export function versionOfKey(pkg: string, key: string): string | undefined {
  const prefix = versionPrefix(pkg);
  if (!key.startsWith(prefix) || !key.endsWith(".pkg")) return undefined;
  const version = key.slice(prefix.length, -".pkg".length);
  // tychoreg allowed `/` in versions (`release/1.0`): those keys are versions too.
  return version === "" ? undefined : version;
}

/** User metadata tycho records on each `.pkg` object (S3 `x-amz-meta-*`); the original ignores it. */
export const metadataKeys = {
  sha256: "tycho-sha256",
  pushedAt: "tycho-pushed-at",
  pushedBy: "tycho-pushed-by",
} as const;
