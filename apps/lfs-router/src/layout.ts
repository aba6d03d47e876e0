import { WharfError } from "@wharf/errors";

const oidPattern = /^[0-9a-f]{64}$/;
/** First path segment reserved for the router's own records (locks, staging). */
export const reservedSegment = "_lfs";

/**
 * The repository part of an LFS URL (hono has already percent-decoded it), kept as it is: timone
 * stored `…/org/repo.git/info/lfs` under `org/repo.git/…` and accepted any name its router
 * matched (`a+b`, `my repo`, `café`, `-dash`, `x..y`), so a timone bucket is served only if the
 * key uses the very same text. At least two segments (timone's `org/repo`); refused (`NOT_FOUND`)
 * are empty, `.` and `..` segments, control characters, backslashes, over-long names and the
 * reserved `_lfs/…`: keys that could not be stored or would leave the repository's prefix.
 */
export function parseRepo(raw: string): string {
  const path = raw.replace(/^\/+|\/+$/g, "");
  const segments = path.split("/");
  const valid =
    segments.length >= 2 &&
    segments.length <= 10 &&
    Buffer.byteLength(path) <= 512 &&
    segments[0] !== reservedSegment &&
    segments.every((s) => s !== "" && s !== "." && s !== ".." && !/[\\\0-\x1f\x7f]/.test(s));
  if (!valid) throw new WharfError("NOT_FOUND", "repository not found");
  return path;
}

/**
 * The name permissions are granted on: `org/repo.git` and `org/repo` are one repository for
 * scopes (`org/repo:write` covers both), while their objects stay under the URL's own text.
 */
export function permissionName(repo: string): string {
  return repo.replace(/\.git$/, "");
}

/** The repository as a URL path, each segment percent-encoded. */
export function repoPath(repo: string): string {
  return repo.split("/").map(encodeURIComponent).join("/");
}

export function isOid(oid: unknown): oid is string {
  return typeof oid === "string" && oidPattern.test(oid);
}

/** Key scheme shared with timone: `<prefix><org>/<repo>/<oid[0:2]>/<oid[2:4]>/<oid>`. */
export interface Layout {
  objectKey(repo: string, oid: string): string;
  /** Where an unverified direct upload waits for its verify call. */
  stagingKey(repo: string, oid: string, nonce: string): string;
  repoPrefix(repo: string): string;
  lockPrefix(repo: string): string;
  lockKey(repo: string, lockHash: string): string;
}

export function createLayout(prefix: string): Layout {
  return {
    objectKey: (repo, oid) => `${prefix}${repo}/${oid.slice(0, 2)}/${oid.slice(2, 4)}/${oid}`,
    stagingKey: (repo, oid, nonce) => `${prefix}${reservedSegment}/staging/${repo}/${oid}-${nonce}`,
    repoPrefix: (repo) => `${prefix}${repo}/`,
    lockPrefix: (repo) => `${prefix}${reservedSegment}/locks/${repo}/`,
    lockKey: (repo, lockHash) => `${prefix}${reservedSegment}/locks/${repo}/${lockHash}.json`,
  };
}
