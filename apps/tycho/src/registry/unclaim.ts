import { isWharfError, WharfError } from "@wharf/errors";
import type { StorageDriver } from "@wharf/storage-driver";
import { type ClaimBody, readClaim } from "./claim.ts";
import type { RegistryContext } from "./context.ts";
import { claimKey, packageKey } from "./layout.ts";
import { validatePackageName, validateVersion } from "./names.ts";

export interface UnclaimResult {
  readonly pkg: string;
  readonly version: string;
  /** Who held the claim and since when. */
  readonly holder: ClaimBody;
  readonly removed: boolean;
  /** Unfinished multipart uploads of the version that were aborted. */
  readonly abortedUploads: number;
}

/**
 * Clears the claim a killed push left on a version (it would block the version until it is stale)
 * and aborts that push's unfinished uploads. Without `confirm` it only reports the holder, as
 * `PRECONDITION_FAILED`: removing the claim of a push that is still running lets a second push in.
 * The claim is replaced with `ifMatch` before it is deleted, so a claim taken meanwhile survives.
 */
export async function unclaim(
  context: RegistryContext,
  request: { readonly pkg: string; readonly version: string; readonly confirm: boolean },
): Promise<UnclaimResult> {
  const pkg = validatePackageName(request.pkg);
  const version = validateVersion(request.version);
  const key = claimKey(pkg, version);
  const held = await readClaim(context.storage, key);
  if (!held)
    throw new WharfError("NOT_FOUND", `No Claim: ${pkg}, Version ${version}`, { details: { pkg, version } });
  const holder = held.body;
  if (!request.confirm)
    throw new WharfError(
      "PRECONDITION_FAILED",
      `Claimed: ${pkg}, Version ${version} by ${holder.by} since ${holder.at}. If that push is no longer running, run again with --yes`,
      { details: { pkg, version, holder } },
    );
  const body = JSON.stringify({ by: `${context.user} (unclaim)`, at: context.now().toISOString() });
  try {
    await context.storage.put(key, body, { ifMatch: held.etag, contentType: "application/json" });
  } catch (error) {
    if (isWharfError(error, "PRECONDITION_FAILED", "NOT_FOUND"))
      throw new WharfError(
        "PRECONDITION_FAILED",
        `Claim changed meanwhile: ${pkg}, Version ${version}; look again`,
        {
          cause: error,
          details: { pkg, version },
        },
      );
    throw error;
  }
  const abortedUploads = await abortUploadsOf(context.storage, packageKey(pkg, version));
  await context.storage.delete(key);
  return { pkg, version, holder, removed: true, abortedUploads };
}

/**
 * Aborts every unfinished multipart upload of exactly `key`: called by whoever holds the version's
 * claim, for whom any other upload of it is a dead push's.
 */
export async function abortUploadsOf(storage: StorageDriver, key: string): Promise<number> {
  if (!storage.capabilities.multipart) return 0;
  let aborted = 0;
  for await (const upload of storage.listMultipartUploads(key)) {
    if (upload.key !== key) continue;
    await storage.abortMultipart(key, upload.uploadId).catch((error: unknown) => {
      if (!isWharfError(error, "NOT_FOUND")) throw error;
    });
    aborted++;
  }
  return aborted;
}
