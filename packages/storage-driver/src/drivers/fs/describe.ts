import { constants, lstatSync, type Stats } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { dirname } from "node:path";
import { pipeline } from "node:stream/promises";
import { WharfError } from "@wharf/errors";
import { DigestingStream } from "../../body.ts";
import type { ObjectInfo } from "../../types.ts";
import type { FsContext } from "./context.ts";
import { conflict, errno, notFound, translateFsError } from "./errors.ts";
import { bareInfo, type Described, type Sidecar, type Sidecars, toInfo } from "./sidecar.ts";

/**
 * Finding the object at a key: its data file with the sidecar of the same version, waiting for a
 * writer between its two renames (the key's lock), and repairing what a crash left there.
 */
export function createDescriber(fs: FsContext, sidecars: Sidecars) {
  const { assertInside, dataPath, lock, md5Etags } = fs;
  const { dropSidecar, isStill, readSidecar, writeSidecar } = sidecars;

  async function openData(key: string): Promise<{ handle: FileHandle; stats: Stats }> {
    const path = dataPath(key);
    try {
      await assertInside(key, dirname(path));
      const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
      const stats = await handle.stat().catch(async (error: unknown) => {
        await handle.close();
        throw error;
      });
      if (stats.isFile()) return { handle, stats };
      await handle.close();
    } catch (error) {
      if (errno(error) === "ELOOP") {
        throw new WharfError("INVALID_ARGUMENT", `${key} is a symbolic link`, { details: { key } });
      }
      if (errno(error) !== "EISDIR") throw translateFsError(error, key);
    }
    throw notFound(key);
  }

  /**
   * Describes a data file whose sidecar is missing or stale (a crash between a write's two renames),
   * under the key's lock. `"version"` mode drops the stale sidecar and lets the file describe itself;
   * `"md5"` mode hashes the file and writes a new sidecar.
   */
  async function repairSidecar(key: string, handle: FileHandle, stats: Stats): Promise<ObjectInfo> {
    if (!md5Etags) {
      await dropSidecar(key);
      return bareInfo(key, stats);
    }
    const digest = new DigestingStream();
    await pipeline(handle.createReadStream({ start: 0, autoClose: false }), digest, async (source) => {
      for await (const _ of source);
    });
    const { md5, sha256 } = digest.allDigests();
    const sidecar: Sidecar = { v: 1, ino: stats.ino, size: stats.size, etag: md5, sha256, metadata: {} };
    await writeSidecar(key, sidecar);
    return toInfo(key, sidecar, stats);
  }

  /**
   * The object of the data file of `stats`: from its sidecar when that names the same inode and
   * size, from the file itself when there is no sidecar in `"version"` mode. Undefined otherwise: a
   * writer between its renames (or one that crashed there), which the key's lock settles.
   */
  async function describeFile(key: string, stats: Stats): Promise<Described | undefined> {
    const sidecar = await readSidecar(key);
    if (sidecar === "none") {
      // A write without a sidecar removes the old one only after renaming its own file into place:
      // if ours is still there, it never had one (else it was replaced and its sidecar may be gone).
      return !md5Etags && isStill(dataPath(key), stats)
        ? { info: bareInfo(key, stats), sidecar: false }
        : undefined;
    }
    return sidecar && sidecar.ino === stats.ino && sidecar.size === stats.size
      ? { info: toInfo(key, sidecar, stats), sidecar: true }
      : undefined;
  }

  /**
   * `head` without a thread-pool trip: `lstat` of the data file and its sidecar. Undefined sends the
   * caller to `openConsistent` (not a plain file, or a writer between its two renames).
   */
  async function quickInfo(key: string, path = dataPath(key)): Promise<ObjectInfo | undefined> {
    let stats: Stats | undefined;
    try {
      // Nothing there is not found wherever the folder resolves: only a file found needs the check.
      stats = lstatSync(path, { throwIfNoEntry: false });
      if (stats) await assertInside(key, dirname(path));
    } catch (error) {
      if (errno(error) === "ENOTDIR") throw translateFsError(error, key);
      return undefined;
    }
    if (stats === undefined) throw notFound(key);
    if (!stats.isFile()) return undefined;
    return describeFile(key, stats).then(
      (described) => described?.info,
      () => undefined,
    );
  }

  /** Opens the data file with the sidecar of the same version; `locked` when the key lock is held. */
  async function openConsistent(
    key: string,
    locked = false,
  ): Promise<{ handle: FileHandle; info: ObjectInfo }> {
    const { handle, stats } = await openData(key);
    try {
      const described = await describeFile(key, stats);
      if (described) return { handle, info: described.info };
      if (locked) return { handle, info: await repairSidecar(key, handle, stats) };
    } catch (error) {
      await handle.close();
      throw translateFsError(error, key);
    }
    // A writer is between its two renames (or crashed there): wait for its lock, then look again.
    await handle.close();
    return lock(key, () => openConsistent(key, true));
  }

  /** The object currently at `key` (lock held), or undefined. */
  async function current(key: string, path: string): Promise<Described | undefined> {
    // No exception for the common case, a new key: an Error and its stack cost more than the lstat.
    const stats = lstatSync(path, { throwIfNoEntry: false });
    if (stats === undefined) return undefined;
    if (stats.isDirectory()) throw conflict(key);
    if (!stats.isFile())
      throw new WharfError("INVALID_ARGUMENT", `${key} is not a regular file`, { details: { key } });
    const described = await describeFile(key, stats);
    if (described) return described;
    const { handle, info } = await openConsistent(key, true);
    await handle.close();
    // Repaired: "md5" mode wrote a new sidecar, "version" mode dropped the stale one.
    return { info, sidecar: md5Etags };
  }

  return { openConsistent, quickInfo, current };
}

export type Describer = ReturnType<typeof createDescriber>;
