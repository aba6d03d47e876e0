import { stat } from "node:fs/promises";
import { isWharfError, WharfError } from "@wharf/errors";
import { claimVersion } from "./claim.ts";
import type { RegistryContext } from "./context.ts";
import { sha256File } from "./hash.ts";
import { metadataKeys, packageKey } from "./layout.ts";
import { readMeta } from "./meta.ts";
import { validatePackageName, validateVersion } from "./names.ts";
import { promote } from "./promote.ts";
import type { ProgressListener } from "./transfer.ts";
import { abortUploadsOf } from "./unclaim.ts";
import { uploadFile } from "./upload.ts";

export interface PushRequest {
  readonly pkg: string;
  readonly version: string;
  /** Absolute path of the local file. */
  readonly path: string;
  readonly promoteLatest?: boolean;
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

export interface PushResult {
  readonly pkg: string;
  readonly version: string;
  readonly size: number;
  readonly sha256: string;
  readonly etag: string;
  readonly promoted: boolean;
}

/**
 * Stores a new version. Never overwrites: the version is claimed with a create-only write and the
 * object itself is created with `ifNoneMatch: "*"`; the package must be initialised first, so a
 * `--promote-latest` push cannot leave an orphan version behind.
 */
export async function push(context: RegistryContext, request: PushRequest): Promise<PushResult> {
  const pkg = validatePackageName(request.pkg);
  const version = validateVersion(request.version);
  const size = await fileSize(request.path);
  // The sha256 goes into the object's metadata, so it is needed before the upload starts: hash
  // while the round trips below (tycho.json, claim, existence, leftover uploads) are made.
  const hashing = new AbortController();
  const hashed = sha256File(
    request.path,
    AbortSignal.any([hashing.signal, ...(request.signal ? [request.signal] : [])]),
  );
  hashed.catch(() => undefined);
  let claim: Awaited<ReturnType<typeof claimVersion>> | undefined;
  let etag: string;
  let sha256: string;
  const key = packageKey(pkg, version);
  try {
    await readMeta(context.storage, pkg);
    claim = await claimVersion(context.storage, pkg, version, {
      by: context.user,
      now: context.now,
      staleAfterMs: context.claimStaleAfterMs,
    });
    if (await exists(context, key)) throw alreadyExists(pkg, version);
    // We hold the claim: an unfinished upload of this version is a killed push's.
    await abortUploadsOf(context.storage, key);
    sha256 = await hashed;
    const info = await uploadFile(context.storage, {
      key,
      path: request.path,
      size,
      sha256,
      metadata: {
        [metadataKeys.sha256]: sha256,
        [metadataKeys.pushedAt]: context.now().toISOString(),
        [metadataKeys.pushedBy]: encodeURIComponent(context.user),
      },
      transfer: context.transfer,
      ...(request.onProgress ? { onProgress: request.onProgress } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
    }).catch((error: unknown) => {
      throw isWharfError(error, "PRECONDITION_FAILED") ? alreadyExists(pkg, version) : error;
    });
    etag = info.etag;
  } finally {
    hashing.abort();
    await claim?.release().catch(() => undefined);
  }
  if (request.promoteLatest) await promote(context, { pkg, version });
  return { pkg, version, size, sha256, etag, promoted: request.promoteLatest === true };
}

function alreadyExists(pkg: string, version: string): WharfError {
  return new WharfError("ALREADY_EXISTS", `Already Exists: ${pkg}, Version ${version}`, {
    details: { pkg, version },
  });
}

async function exists(context: RegistryContext, key: string): Promise<boolean> {
  try {
    await context.storage.head(key);
    return true;
  } catch (error) {
    if (isWharfError(error, "NOT_FOUND")) return false;
    throw error;
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    const stats = await stat(path);
    if (!stats.isFile()) throw new WharfError("INVALID_ARGUMENT", `Not a file: ${path}`);
    return stats.size;
  } catch (error) {
    if (isWharfError(error)) throw error;
    throw new WharfError("NOT_FOUND", `No such file: ${path}`, { cause: error });
  }
}
