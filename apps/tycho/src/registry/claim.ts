import { isWharfError, WharfError } from "@wharf/errors";
import type { StorageDriver } from "@wharf/storage-driver";
import { claimKey } from "./layout.ts";
import { readText } from "./streams.ts";

export interface ClaimBody {
  readonly by: string;
  readonly at: string;
}

export interface Claim {
  release(): Promise<void>;
}

export interface ClaimOptions {
  readonly by: string;
  readonly now: () => Date;
  /** A claim older than this (ms) is presumed abandoned by a crashed push and may be taken over. */
  readonly staleAfterMs: number;
}

/**
 * Reserves `<pkg>/tycho_<v>.pkg.claim` with a create-only write so that of N concurrent pushes of
 * one version exactly one proceeds, even where the store cannot make a multipart completion
 * conditional (Ceph 16). A stale claim is replaced with `ifMatch`, so two takers cannot both win.
 */
export async function claimVersion(
  storage: StorageDriver,
  pkg: string,
  version: string,
  options: ClaimOptions,
): Promise<Claim> {
  const key = claimKey(pkg, version);
  const body = JSON.stringify({ by: options.by, at: options.now().toISOString() } satisfies ClaimBody);
  const put = { contentType: "application/json" };
  try {
    await storage.put(key, body, { ...put, ifNoneMatch: "*" });
  } catch (error) {
    if (!isWharfError(error, "PRECONDITION_FAILED")) throw error;
    const holder = await readClaim(storage, key);
    if (!holder) return claimVersion(storage, pkg, version, options);
    const age = options.now().getTime() - Date.parse(holder.body.at);
    if (Number.isFinite(age) && age <= options.staleAfterMs)
      throw new WharfError(
        "ALREADY_EXISTS",
        `Push In Progress: ${pkg}, Version ${version} (by ${holder.body.by} since ${holder.body.at}); if that push was killed: tycho unclaim ${pkg} ${version}`,
        { details: { pkg, version } },
      );
    try {
      await storage.put(key, body, { ...put, ifMatch: holder.etag });
    } catch (takeover) {
      if (isWharfError(takeover, "PRECONDITION_FAILED", "NOT_FOUND"))
        throw new WharfError("ALREADY_EXISTS", `Push In Progress: ${pkg}, Version ${version}`, {
          details: { pkg, version },
        });
      throw takeover;
    }
  }
  return { release: () => storage.delete(key) };
}

/** The claim on `key` as stored: who took it and when, and its etag for a guarded replace. */
export async function readClaim(
  storage: StorageDriver,
  key: string,
): Promise<{ body: ClaimBody; etag: string } | undefined> {
  try {
    const { info, body } = await storage.get(key);
    const text = await readText(body);
    let parsed: Partial<ClaimBody> = {};
    try {
      parsed = JSON.parse(text) as Partial<ClaimBody>;
    } catch {}
    return { etag: info.etag, body: { by: String(parsed.by ?? "unknown"), at: String(parsed.at ?? "") } };
  } catch (error) {
    if (isWharfError(error, "NOT_FOUND")) return undefined;
    throw error;
  }
}
