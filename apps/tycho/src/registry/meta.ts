import { isWharfError, WharfError } from "@wharf/errors";
import type { StorageDriver } from "@wharf/storage-driver";
import { metaKey } from "./layout.ts";
import { readText } from "./streams.ts";

export interface YankRecord {
  readonly at: string;
  readonly by: string;
  readonly reason?: string;
}

/** `tycho.json`. Unknown keys written by other tools are kept as they are. */
export interface PackageMeta {
  readonly localname: string;
  readonly latest: string | null;
  readonly yanked?: Readonly<Record<string, YankRecord>>;
  readonly [extra: string]: unknown;
}

export interface StoredMeta {
  readonly meta: PackageMeta;
  readonly etag: string;
}

export function serializeMeta(meta: PackageMeta): string {
  return JSON.stringify(meta, null, 2);
}

function parseMeta(pkg: string, text: string): PackageMeta {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new WharfError("INTERNAL", `Corrupt tycho.json for ${pkg}: not JSON`, { cause });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new WharfError("INTERNAL", `Corrupt tycho.json for ${pkg}: not an object`);
  const record = value as Record<string, unknown>;
  if (typeof record.localname !== "string")
    throw new WharfError("INTERNAL", `Corrupt tycho.json for ${pkg}: localname is not a string`);
  const latest = record.latest ?? null;
  if (latest !== null && typeof latest !== "string")
    throw new WharfError("INTERNAL", `Corrupt tycho.json for ${pkg}: latest is not a string`);
  return { ...record, localname: record.localname, latest };
}

/** Reads `tycho.json`; `NOT_FOUND` ("Not Initialized") when the package was never initialised. */
export async function readMeta(storage: StorageDriver, pkg: string): Promise<StoredMeta> {
  try {
    const { info, body } = await storage.get(metaKey(pkg));
    return { meta: parseMeta(pkg, await readText(body)), etag: info.etag };
  } catch (error) {
    if (isWharfError(error, "NOT_FOUND"))
      throw new WharfError("NOT_FOUND", `Not Initialized: ${pkg}`, { details: { pkg } });
    throw error;
  }
}

/** Like {@link readMeta}, but undefined for an uninitialised package. */
export async function findMeta(storage: StorageDriver, pkg: string): Promise<StoredMeta | undefined> {
  try {
    return await readMeta(storage, pkg);
  } catch (error) {
    if (isWharfError(error, "NOT_FOUND")) return undefined;
    throw error;
  }
}

/** Creates `tycho.json` only if absent: `ALREADY_EXISTS` ("Already Initialized") otherwise. */
export async function createMeta(storage: StorageDriver, pkg: string, localname: string): Promise<void> {
  const meta: PackageMeta = { localname, latest: null };
  try {
    await storage.put(metaKey(pkg), serializeMeta(meta), {
      ifNoneMatch: "*",
      contentType: "application/json",
    });
  } catch (error) {
    if (isWharfError(error, "PRECONDITION_FAILED"))
      throw new WharfError("ALREADY_EXISTS", `Already Initialized: ${pkg}`, { details: { pkg } });
    throw error;
  }
}

export interface UpdateOptions {
  /** Attempts before giving up with `UNAVAILABLE`; each one re-reads and re-applies `change`. */
  readonly attempts?: number;
}

/**
 * Read-modify-write of `tycho.json` guarded by `ifMatch`: a concurrent writer makes the put fail
 * and `change` runs again on the fresh document, so no update is ever lost. `change` may throw to
 * refuse the update, or return the same object to skip the write.
 */
export async function updateMeta(
  storage: StorageDriver,
  pkg: string,
  change: (meta: PackageMeta) => PackageMeta,
  options: UpdateOptions = {},
): Promise<PackageMeta> {
  const attempts = options.attempts ?? 20;
  for (let attempt = 1; ; attempt++) {
    const current = await readMeta(storage, pkg);
    const next = change(current.meta);
    if (next === current.meta) return next;
    try {
      await storage.put(metaKey(pkg), serializeMeta(next), {
        ifMatch: current.etag,
        contentType: "application/json",
      });
      return next;
    } catch (error) {
      if (!isWharfError(error, "PRECONDITION_FAILED", "NOT_FOUND")) throw error;
      if (attempt >= attempts)
        throw new WharfError("UNAVAILABLE", `Too many concurrent updates of ${pkg}/tycho.json; try again`, {
          cause: error,
        });
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}
