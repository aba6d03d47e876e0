/**
 * The fs driver's write path, in the order a write takes it: `put` stages the body in a new file
 * under `.wharf-storage/staging/` (hashing it on the way), `commit` stages the sidecar, fsyncs both,
 * then under the key's lock checks the conditions against the object there and renames the data
 * file into place (the commit point), the sidecar before or after it. `delete` is here too.
 */
import { createHash, randomUUID } from "node:crypto";
import { close, constants, linkSync, lstatSync, openSync, renameSync, type Stats } from "node:fs";
import { lstat, rm, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { WharfError } from "@wharf/errors";
import {
  bodyError,
  checkBody,
  checkPutOptions,
  heedErrors,
  isFillable,
  throwIfAborted,
  toBufferOrReadable,
} from "../../body.ts";
import { validateKey } from "../../keys.ts";
import type { BodyInput, ObjectInfo, PutOptions, StorageDriver } from "../../types.ts";
import type { FsContext } from "./context.ts";
import type { Describer } from "./describe.ts";
import { conflict, diskErrors, errno, preconditionFailed, translateFsError } from "./errors.ts";
import { bareInfo, type Sidecar, type Sidecars, toInfo } from "./sidecar.ts";
import { writeNewFile, writeNewFileFilled, writesAtOnce } from "./write-file.ts";

interface Staged {
  readonly path: string;
  readonly size: number;
  /** The staged file's stats, which its rename into place keeps (but for ctime). */
  readonly stats: Stats;
  /** Absent in `"version"` etag mode. */
  readonly md5?: string;
  /** Absent in `"version"` etag mode unless the caller asked for it to be verified. */
  readonly sha256?: string;
  /** Already on the disk: written through O_DSYNC or fsynced (else `commit` fsyncs it). */
  readonly synced: boolean;
}

export interface Conditions {
  readonly ifNoneMatch?: "*";
  readonly ifMatch?: string;
}

export function createWrites(fs: FsContext, sidecars: Sidecars, describer: Describer) {
  const {
    assertInside,
    dataPath,
    durable,
    lock,
    makeParents,
    md5Etags,
    metaPath,
    prune,
    ready,
    root,
    metaRoot,
    stagingDir,
    syncDir,
  } = fs;
  const { dropSidecar, needsNoSidecar, placeSidecar, stageSidecar } = sidecars;
  const { current } = describer;
  const syncFile = syncDir;
  /** The etag of a staged body. */
  const etagOf = (staged: Staged) => (md5Etags && staged.md5 !== undefined ? staged.md5 : fs.newVersion());

  /**
   * Writes a body to a new staging file, hashing it on the way. `verifySha256`: hash sha256 even in
   * `"version"` mode. `flush: false` leaves the fsync to `commit`, which overlaps it with the sidecar's.
   */
  async function stage(
    body: Readable | Buffer,
    limit: number | undefined,
    signal: AbortSignal | undefined,
    options: { verifySha256?: boolean; flush?: boolean } = {},
  ): Promise<Staged> {
    throwIfAborted(signal);
    await ready();
    const path = join(stagingDir, randomUUID());
    const md5 = md5Etags ? createHash("md5") : undefined;
    const sha256 = md5Etags || options.verifySha256 ? createHash("sha256") : undefined;
    let seen = 0;
    const size = Buffer.isBuffer(body) ? body.length : limit;
    // A small body is flushed here even for `commit`: its one O_DSYNC write costs no fsync trip.
    const flush = durable && ((options.flush ?? true) || writesAtOnce(size));
    const writeOptions = {
      flush,
      durable,
      ...(size === undefined ? {} : { size }),
      ...(signal ? { signal } : {}),
      onData: (chunk: Buffer) => {
        seen += chunk.length;
        if (limit !== undefined && seen > limit)
          throw new WharfError("INVALID_ARGUMENT", `body is longer than the declared ${limit} bytes`);
        md5?.update(chunk);
        sha256?.update(chunk);
      },
    };
    try {
      const { size: written, stats } = isFillable(body)
        ? await writeNewFileFilled(path, body, writeOptions)
        : await writeNewFile(path, body, writeOptions);
      return {
        path,
        size: written,
        stats,
        synced: flush,
        ...(md5 ? { md5: md5.digest("hex") } : {}),
        ...(sha256 ? { sha256: sha256.digest("hex") } : {}),
      };
    } catch (error) {
      if (!Buffer.isBuffer(body)) body.destroy();
      await rm(path, { force: true });
      if (diskErrors.has(errno(error) ?? "")) throw translateFsError(error);
      throw bodyError(error, signal);
    }
  }

  /**
   * Makes a staged file the object at `key`, atomically, under the key's lock, and consumes the
   * staging file (callers stage it with `flush: false` and remove it only when commit fails). The
   * sidecar is staged and both files fsynced together before the lock; the lock covers only renames
   * and the folder fsyncs, so a small write costs few sequential disk round trips.
   *
   * The rename of the data file is the commit point. A sidecar goes into place before it when the
   * key has no described object yet (readers find no data, or data whose inode the sidecar does not
   * name, and wait for the lock), after it when it replaces another sidecar (readers find the new
   * inode under the old sidecar and wait). A write without a sidecar (`needsNoSidecar`) removes the
   * old one after the rename; left behind by a crash, it names another inode and is dropped by the
   * next reader under the lock.
   */
  async function commit(
    key: string,
    staged: Staged,
    described: {
      etag: string;
      sha256?: string;
      contentType?: string;
      metadata?: Readonly<Record<string, string>>;
    },
    conditions: Conditions,
  ): Promise<ObjectInfo> {
    const path = dataPath(key);
    const bare = needsNoSidecar(described);
    const sidecar: Sidecar = {
      v: 1,
      ino: staged.stats.ino,
      size: staged.size,
      etag: described.etag,
      metadata: { ...described.metadata },
      ...(described.sha256 === undefined ? {} : { sha256: described.sha256 }),
      ...(described.contentType === undefined ? {} : { contentType: described.contentType }),
    };
    // Both files reach the disk in one overlapped round (one journal commit on ext4), before the lock.
    const sidecarFile = bare ? undefined : stageSidecar(sidecar);
    sidecarFile?.catch(() => {});
    let placed = false;
    try {
      await Promise.all([staged.synced ? undefined : syncFile(staged.path), sidecarFile]);
      return await lock(key, async () => {
        try {
          return await commitLocked();
        } catch (error) {
          // A sidecar placed before a data file that never came (the lock kept other writers of the
          // key out meanwhile) describes nothing.
          if (placed && !dataNamesInode(path, staged.stats.ino)) await dropSidecar(key).catch(() => {});
          throw error;
        }
      });
    } catch (error) {
      await sidecarFile?.then((file) => rm(file, { force: true })).catch(() => {});
      throw translateFsError(error, key);
    }

    async function commitLocked(): Promise<ObjectInfo> {
      let linked = false;
      const changed = new Set<string>();
      for (let attempt = 0; ; attempt++) {
        for (const dir of await makeParents(key, path)) changed.add(dir);
        const existing = await current(key, path);
        if (conditions.ifNoneMatch === "*" && existing) throw preconditionFailed(key, "an object exists");
        if (conditions.ifMatch !== undefined && existing?.info.etag !== conditions.ifMatch) {
          throw preconditionFailed(key, existing ? "the etag does not match" : "no object exists");
        }
        if (sidecarFile && !placed && !existing?.sidecar) {
          for (const dir of await placeSidecar(key, await sidecarFile)) changed.add(dir);
          placed = true;
        }
        try {
          // link() fails with EEXIST if anything appeared meanwhile, even from a writer not using our lock.
          if (conditions.ifNoneMatch === "*") {
            linkSync(staged.path, path);
            linked = true;
          } else if (existing) replaceWith(staged.path, path);
          // Nothing to replace (the lock keeps our other writers out): no open to try first.
          else renameSync(staged.path, path);
          break;
        } catch (error) {
          if (errno(error) === "EEXIST") throw preconditionFailed(key, "an object exists");
          if (errno(error) === "EISDIR" || errno(error) === "ENOTEMPTY") throw conflict(key, error);
          // A delete pruned the empty parent folder between mkdir and rename: try again.
          if (errno(error) !== "ENOENT" || attempt >= 5) throw error;
        }
      }
      if (sidecarFile && !placed) {
        for (const dir of await placeSidecar(key, await sidecarFile)) changed.add(dir);
        placed = true;
      }
      if (bare) await dropSidecar(key);
      changed.delete(dirname(path));
      changed.delete(dirname(metaPath(key)));
      await Promise.all([
        syncDir(dirname(path)),
        bare ? undefined : syncDir(dirname(metaPath(key))),
        ...[...changed].map((dir) => syncDir(dir)),
        linked ? unlink(staged.path) : undefined,
      ]);
      return bare ? bareInfo(key, staged.stats) : toInfo(key, sidecar, staged.stats);
    }
  }

  /** Whether the file at `path` is the inode `ino`. */
  function dataNamesInode(path: string, ino: number): boolean {
    try {
      return lstatSync(path).ino === ino;
    } catch {
      return false;
    }
  }

  /**
   * Renames `from` over `to`. When that replaces a file, the old one stays open across the rename
   * and is closed in the thread pool: the last close frees its blocks, which for a large file that
   * reached the disk takes a few hundred milliseconds (discard, journal), and must not stall every
   * other request on the event loop.
   */
  function replaceWith(from: string, to: string): void {
    let replaced: number | undefined;
    try {
      replaced = openSync(to, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch {
      // Nothing there (or not a file we can open): the rename decides.
    }
    try {
      renameSync(from, to);
    } finally {
      if (replaced !== undefined) close(replaced, () => {});
    }
  }

  async function putStaged(key: string, body: Readable | Buffer, options: PutOptions): Promise<ObjectInfo> {
    const staged = await stage(body, options.size, options.signal, {
      verifySha256: options.sha256 !== undefined,
      flush: false,
    });
    try {
      checkBody(staged, options);
      const recorded = options.recordSha256 === false ? undefined : staged.sha256;
      return await commit(
        key,
        staged,
        {
          etag: etagOf(staged),
          ...(recorded === undefined ? {} : { sha256: recorded }),
          ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
          ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
        },
        options,
      );
    } catch (error) {
      await rm(staged.path, { force: true });
      throw error;
    }
  }

  const operations: Pick<StorageDriver, "put" | "delete"> = {
    async put(key, body: BodyInput, putOptions = {}) {
      heedErrors(body);
      validateKey(key);
      checkPutOptions(putOptions);
      return putStaged(key, toBufferOrReadable(body), putOptions);
    },

    async delete(key) {
      validateKey(key);
      await ready();
      const path = dataPath(key);
      await lock(key, async () => {
        const stats = await lstat(path).catch(() => undefined);
        if (!stats || stats.isDirectory()) return;
        await assertInside(key, dirname(path));
        await unlink(path);
        await rm(metaPath(key), { force: true });
        await syncDir(dirname(path)).catch(() => {});
      }).catch((error) => {
        throw translateFsError(error, key);
      });
      await prune(dirname(path), root);
      await prune(dirname(metaPath(key)), metaRoot);
    },
  };

  return { ...operations, stage, commit, etagOf, dataNamesInode };
}

export type Writes = ReturnType<typeof createWrites>;
