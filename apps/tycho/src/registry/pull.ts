import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { WharfError } from "@wharf/errors";
import type { ObjectInfo } from "@wharf/storage-driver";
import type { RegistryContext } from "./context.ts";
import { discardPartial, downloadObject } from "./download.ts";
import { actualDigest, integrityPlan } from "./integrity.ts";
import { packageKey } from "./layout.ts";
import { readMeta } from "./meta.ts";
import { validateLocalName, validatePackageName, validateVersionRef } from "./names.ts";
import { requireVersion } from "./promote.ts";
import type { ProgressListener } from "./transfer.ts";
import { listVersions, resolveVersion } from "./versions.ts";

export interface PullRequest {
  readonly pkg: string;
  /** `latest` (default), an exact version or a semver range such as `^1.2`. */
  readonly version?: string;
  readonly force?: boolean;
  /** Resolved against `cwd`; default `<outdir>/<localname>`. */
  readonly outfile?: string;
  readonly outdir: string;
  readonly cwd: string;
  /** Called once the version and target are known, before any byte moves. */
  readonly onStart?: (pull: { version: string; target: string; size: number }) => void;
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

export interface PullResult {
  readonly pkg: string;
  readonly version: string;
  /** As tychoreg prints it: `<outdir>/<localname>`, or the absolute `--outfile`. */
  readonly target: string;
  readonly path: string;
  readonly skipped: boolean;
  readonly size: number;
  /** Quoted, as the `.etag` sidecar holds it. */
  readonly etag: string;
  /** Recorded at push (absent for tychoreg's pushes), or computed from the downloaded bytes. */
  readonly sha256?: string;
  readonly verified: boolean;
  /** What the bytes were checked against: the recorded sha256, or (tychoreg's pushes on S3) the ETag. */
  readonly verifiedBy: "sha256" | "etag" | null;
  /** Why a pulled version could not be verified. */
  readonly unverifiedReason?: string;
  /** Bytes kept from an interrupted pull. */
  readonly resumedBytes: number;
  /** Bytes this pull received from the store. */
  readonly fetchedBytes: number;
}

export const partialSuffix = ".tycho-partial";

/**
 * Downloads a version to `<outdir>/<localname>` (or `outfile`) unless the `.etag` sidecar and the
 * size show it is already there. Bytes land in `<target>.tycho-partial`, are checked against the
 * sha256 recorded at push (or, for tychoreg's pushes on S3, the ETag), and only then renamed over
 * the target.
 */
export async function pull(context: RegistryContext, request: PullRequest): Promise<PullResult> {
  const pkg = validatePackageName(request.pkg);
  const { meta } = await readMeta(context.storage, pkg);
  const picked = await pickVersion(context, pkg, request.version ?? "latest", meta);
  const { version } = picked;
  // With --outfile the localname is not used, so a strange one does not stand in the way.
  const target = request.outfile
    ? resolve(request.cwd, request.outfile)
    : join(request.outdir, validateLocalName(meta.localname));
  const path = resolve(request.cwd, target);
  const info = picked.info ?? (await requireVersion(context, pkg, version));
  const etag = `"${info.etag}"`;
  const plan = integrityPlan(context.storage, info);
  const recorded = plan.by === "sha256" ? plan.expected : undefined;
  const base = {
    pkg,
    version,
    target,
    path,
    size: info.size,
    etag,
    ...(recorded ? { sha256: recorded } : {}),
  };

  const partial = `${path}${partialSuffix}`;
  if (!request.force && (await isUnchanged(path, etag, info.size))) {
    // The target is what it should be: an interrupted download of it (or of another version) is
    // of no further use.
    await discardPartial(partial);
    return { ...base, skipped: true, verified: false, verifiedBy: null, resumedBytes: 0, fetchedBytes: 0 };
  }

  request.onStart?.({ version, target, size: info.size });
  await mkdir(dirname(path), { recursive: true });
  const downloaded = await downloadObject(context.storage, {
    key: packageKey(pkg, version),
    info,
    path: partial,
    transfer: context.transfer,
    ...(plan.by === "etag" ? { etagLayout: plan.layout } : {}),
    ...(request.onProgress ? { onProgress: request.onProgress } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
  });
  const { sha256, resumedBytes, fetchedBytes } = downloaded;
  if (plan.by !== null && actualDigest(plan, downloaded) !== plan.expected) {
    await discardPartial(partial);
    const actual = actualDigest(plan, downloaded);
    const what = plan.by === "sha256" ? "sha256" : "ETag (md5, tychoreg's push)";
    throw new WharfError(
      "CHECKSUM_MISMATCH",
      `Checksum Mismatch: ${pkg}, Version ${version} (expected ${what} ${plan.expected}, got ${actual})`,
      { details: { pkg, version, by: plan.by, expected: plan.expected, actual } },
    );
  }
  await rename(partial, path);
  await discardPartial(partial);
  await writeFile(`${path}.etag`, etag);
  return {
    ...base,
    sha256,
    skipped: false,
    verified: plan.by !== null,
    verifiedBy: plan.by,
    ...(plan.by === null ? { unverifiedReason: plan.reason } : {}),
    resumedBytes,
    fetchedBytes,
  };
}

/** The version to pull, with its object's description when finding it took a HEAD already. */
async function pickVersion(
  context: RegistryContext,
  pkg: string,
  requested: string,
  meta: Awaited<ReturnType<typeof readMeta>>["meta"],
): Promise<{ version: string; info?: ObjectInfo }> {
  if (requested === "latest") {
    if (meta.latest === null)
      throw new WharfError("NOT_FOUND", `Nothing to Pull: ${pkg}`, { details: { pkg } });
    return { version: meta.latest };
  }
  const info = isVersionRef(requested)
    ? await requireVersion(context, pkg, requested).catch(() => undefined)
    : undefined;
  if (info) return { version: requested, info };
  const resolved = resolveVersion(pkg, requested, meta, await listVersions(context.storage, pkg));
  if (resolved === null) throw new WharfError("NOT_FOUND", `Nothing to Pull: ${pkg}`, { details: { pkg } });
  return { version: resolved };
}

function isVersionRef(text: string): boolean {
  try {
    validateVersionRef(text);
    return true;
  } catch {
    return false;
  }
}

/** tychoreg's cache rule: the sidecar holds the remote ETag and the local size matches. */
async function isUnchanged(path: string, etag: string, size: number): Promise<boolean> {
  try {
    const [sidecar, local] = await Promise.all([readFile(`${path}.etag`, "utf8"), stat(path)]);
    return (sidecar === etag || sidecar === etag.slice(1, -1)) && local.size === size;
  } catch {
    return false;
  }
}
