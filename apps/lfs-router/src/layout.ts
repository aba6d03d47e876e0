import { WharfError } from "@wharf/errors";

const segmentPattern = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/;
const oidPattern = /^[0-9a-f]{64}$/;
/** First path segment reserved for the router's own records (locks, staging). */
export const reservedSegment = "_lfs";

/**
 * Normalises the repository part of an LFS URL: `group/sub/repo` or `org/repo.git` → `org/repo`.
 * At least two segments (timone's `org/repo`), each a plain name. `NOT_FOUND` otherwise.
 */
export function parseRepo(raw: string): string {
  let path = raw;
  try {
    path = decodeURIComponent(raw);
  } catch {
    throw new WharfError("NOT_FOUND", "repository not found");
  }
  path = path.replace(/^\/+|\/+$/g, "").replace(/\.git$/, "");
  const segments = path.split("/");
  const valid =
    segments.length >= 2 &&
    segments.length <= 10 &&
    segments[0] !== reservedSegment &&
    segments.every((s) => segmentPattern.test(s) && !s.endsWith(".") && !s.includes(".."));
  if (!valid) throw new WharfError("NOT_FOUND", "repository not found");
  return segments.join("/");
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
