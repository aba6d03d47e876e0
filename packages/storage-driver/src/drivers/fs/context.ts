import { createHash, randomUUID } from "node:crypto";
import { closeSync, mkdirSync, openSync, realpathSync } from "node:fs";
import { mkdir, realpath, rmdir } from "node:fs/promises";
import { dirname, join, sep } from "node:path";
import { WharfError } from "@wharf/errors";
import { RESERVED_SEGMENT } from "../../keys.ts";
import { conflict, errno, translateFsError } from "./errors.ts";
import type { FsDriverOptions } from "./fs.ts";
import { withFileLock } from "./lock.ts";
import { fsyncFd } from "./write-file.ts";

/**
 * What every part of the fs driver shares: where things are on the disk, the options that change
 * how it writes, the per-key lock, and the small folder operations of the commit path.
 */
export interface FsContext {
  readonly root: string;
  /** Bodies being written (swept when stale). */
  readonly stagingDir: string;
  /** Sidecars: `metaRoot/<key>` describes `root/<key>`. */
  readonly metaRoot: string;
  /** Multipart uploads, a folder per upload id. */
  readonly uploadsDir: string;
  /** fsync before acknowledging a write. */
  readonly durable: boolean;
  /** Etags are body md5s (`etag: "md5"`); else opaque per-write versions. */
  readonly md5Etags: boolean;
  /** A new opaque etag in `"version"` mode: 32 hex digits, like an md5, so part file names fit. */
  newVersion(): string;
  /** Creates the bookkeeping folders once; resolves to the root's real path. */
  ready(): Promise<string>;
  dataPath(key: string): string;
  metaPath(key: string): string;
  /** Runs `fn` holding the cross-process lock of `key`. */
  lock<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** fsyncs a folder, or a file already written and closed (when durable). */
  syncDir(dir: string): Promise<void>;
  /** Refuses a folder that resolves (through symlinks) outside the root. */
  assertInside(key: string, dir: string): Promise<void>;
  /** Creates the parents of a data path (see `makeParents`); returns the folders to fsync besides its own. */
  makeParents(key: string, path: string): Promise<string[]>;
  /** Removes empty folders from `dir` up to (not including) `top`. */
  prune(dir: string, top: string): Promise<void>;
}

/**
 * Creates `dir` and its missing parents. Returns the folders that gained an entry for a new folder
 * (the parent of each one created), which must be fsynced too: on a filesystem without a journal,
 * fsyncing only `dir` could leave `dir` itself unreachable after a crash.
 */
export function makeDirs(dir: string): string[] {
  const first = mkdirSync(dir, { recursive: true });
  if (first === undefined) return [];
  const changed: string[] = [];
  for (let created = dir; ; created = dirname(created)) {
    changed.push(dirname(created));
    if (created === first || dirname(created) === created) return changed;
  }
}

/** The shared part of an fs driver rooted at `options.root`. */
export function createFsContext(options: Pick<FsDriverOptions, "root" | "fsync" | "etag">): FsContext {
  const root = options.root;
  const internal = join(root, RESERVED_SEGMENT);
  const stagingDir = join(internal, "staging");
  const metaRoot = join(internal, "meta");
  const locksDir = join(internal, "locks");
  const uploadsDir = join(internal, "uploads");
  const durable = options.fsync ?? true;
  const md5Etags = (options.etag ?? "md5") === "md5";
  let readyPromise: Promise<string> | undefined;

  function ready(): Promise<string> {
    readyPromise ??= (async () => {
      for (const dir of [stagingDir, metaRoot, locksDir, uploadsDir]) await mkdir(dir, { recursive: true });
      return realpath(root);
    })().catch((error) => {
      readyPromise = undefined;
      throw translateFsError(error);
    });
    return readyPromise;
  }

  const dataPath = (key: string) => join(root, ...key.split("/"));
  const metaPath = (key: string) => join(metaRoot, ...key.split("/"));
  const lockPath = (key: string) =>
    join(locksDir, createHash("sha256").update(key).digest("hex").slice(0, 40));
  const lock = <T>(key: string, fn: () => Promise<T>) => withFileLock(lockPath(key), fn);

  // Small metadata calls on the commit path (mkdir, lstat, link, rename, realpath, opening a folder)
  // run synchronously: on a local disk each takes microseconds, while a trip through libuv's thread
  // pool costs ~0.1 ms, and a small write makes about a dozen of them in a row. Anything that moves
  // data or waits for the disk (body streams, fsync) stays asynchronous.
  /** fsyncs a folder, or a file already written and closed. */
  async function syncDir(dir: string): Promise<void> {
    if (!durable) return;
    const fd = openSync(dir, "r");
    try {
      await fsyncFd(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Refuses a folder that resolves (through symlinks) outside the root. */
  async function assertInside(key: string, dir: string): Promise<void> {
    const rootReal = await ready();
    const real = realpathSync.native(dir);
    if (real !== rootReal && !real.startsWith(rootReal + sep)) {
      throw new WharfError("INVALID_ARGUMENT", `${key} resolves outside the storage root`, {
        details: { key },
      });
    }
  }

  /**
   * Creates the parents of a data path; a file in the way is a key conflict. Returns the folders to
   * fsync besides the path's own (see `makeDirs`).
   */
  async function makeParents(key: string, path: string): Promise<string[]> {
    let changed: string[];
    try {
      changed = makeDirs(dirname(path));
    } catch (error) {
      if (errno(error) === "EEXIST" || errno(error) === "ENOTDIR") throw conflict(key, error);
      throw error;
    }
    await assertInside(key, dirname(path));
    return changed;
  }

  /** Removes empty folders from `dir` up to (not including) `top`. */
  async function prune(dir: string, top: string): Promise<void> {
    while (dir !== top && dir.startsWith(top + sep)) {
      try {
        await rmdir(dir);
      } catch {
        return;
      }
      dir = dirname(dir);
    }
  }

  return {
    root,
    stagingDir,
    metaRoot,
    uploadsDir,
    durable,
    md5Etags,
    newVersion: () => randomUUID().replaceAll("-", ""),
    ready,
    dataPath,
    metaPath,
    lock,
    syncDir,
    assertInside,
    makeParents,
    prune,
  };
}
