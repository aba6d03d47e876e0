import { createHash, randomUUID } from "node:crypto";
import {
  closeSync,
  lstatSync,
  openSync,
  readFileSync,
  renameSync,
  type Stats,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { type FileHandle, open, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { ObjectInfo } from "../../types.ts";
import { type FsContext, makeDirs } from "./context.ts";
import { errno } from "./errors.ts";
import { fdatasyncFd } from "./write-file.ts";

/**
 * The content type a `"version"` mode write leaves unrecorded: what readers serve when an object
 * has none, so recording it would only cost a sidecar.
 */
const DEFAULT_CONTENT_TYPE = "application/octet-stream";

/** What the sidecar beside each object records. `ino` ties it to one version of the data file. */
export interface Sidecar {
  readonly v: 1;
  readonly ino: number;
  readonly size: number;
  readonly etag: string;
  readonly sha256?: string;
  readonly contentType?: string;
  readonly metadata: Record<string, string>;
}

/** An object's info, and whether a sidecar holds it (else the data file describes itself). */
export interface Described {
  readonly info: ObjectInfo;
  readonly sidecar: boolean;
}

/**
 * In `"version"` mode, a file without a sidecar describes itself: no content type, no metadata,
 * and an etag derived from its inode, birth time, mtime and size, so it changes with every write
 * (each one renames a new file into place) and with any change made to the file in place.
 */
export function bareInfo(key: string, stats: Stats): ObjectInfo {
  const identity = `${stats.ino}:${stats.birthtimeMs}:${stats.mtimeMs}:${stats.size}`;
  return {
    key,
    size: stats.size,
    etag: createHash("md5").update(identity).digest("hex"),
    lastModified: stats.mtime,
    metadata: {},
  };
}

export function toInfo(key: string, sidecar: Sidecar, stats: { size: number; mtime: Date }): ObjectInfo {
  return {
    key,
    size: stats.size,
    etag: sidecar.etag,
    lastModified: stats.mtime,
    metadata: sidecar.metadata,
    ...(sidecar.contentType === undefined ? {} : { contentType: sidecar.contentType }),
    ...(sidecar.sha256 === undefined ? {} : { sha256: sidecar.sha256 }),
  };
}

/** Reading, writing and placing the sidecars of one fs driver. */
export function createSidecars(fs: FsContext) {
  const { durable, md5Etags, metaPath, stagingDir, syncDir } = fs;

  /**
   * The sidecar of `key`, read synchronously: a file of a few hundred bytes, like the metadata calls
   * above. `"none"`: there is no sidecar file; undefined: one that cannot be read as a sidecar (being
   * rewritten in place, cut short by a crash, or an orphan folder).
   */
  async function readSidecar(key: string): Promise<Sidecar | "none" | undefined> {
    try {
      return JSON.parse(readFileSync(metaPath(key), "utf8")) as Sidecar;
    } catch (error) {
      if (errno(error) === "ENOENT" || errno(error) === "ENOTDIR") return "none";
      if (errno(error) === "EISDIR" || error instanceof SyntaxError) return undefined;
      throw error;
    }
  }

  /** Whether `path` is still the file of `stats`, unchanged. */
  function isStill(path: string, stats: Stats): boolean {
    try {
      const now = lstatSync(path);
      return now.ino === stats.ino && now.size === stats.size && now.mtimeMs === stats.mtimeMs;
    } catch {
      return false;
    }
  }

  /** Removes a sidecar (or an orphan folder of them) that no longer describes the object at `key`. */
  async function dropSidecar(key: string): Promise<void> {
    try {
      // Most keys have none: an lstat that finds nothing costs no exception, unlike the unlink.
      if (!lstatSync(metaPath(key), { throwIfNoEntry: false })) return;
      unlinkSync(metaPath(key));
    } catch (error) {
      if (errno(error) === "ENOENT" || errno(error) === "ENOTDIR") return;
      if (errno(error) !== "EISDIR" && errno(error) !== "EPERM") throw error;
      await rm(metaPath(key), { recursive: true, force: true });
    }
  }

  /**
   * Writes the sidecar of `key` in place; the caller holds the key's lock. No temporary file is
   * needed: a reader that meets a sidecar being rewritten finds it empty, cut short (not JSON) or
   * naming another inode, and then waits for the lock and reads again. `sync: false` leaves the
   * folder fsync to the caller.
   */
  async function writeSidecar(key: string, sidecar: Sidecar, sync = true): Promise<void> {
    const path = metaPath(key);
    const changed = makeDirs(dirname(path));
    let handle: FileHandle;
    try {
      handle = await open(path, "w");
    } catch (error) {
      // Orphan sidecars of deleted keys below a folder now taken by an object: drop them.
      if (errno(error) !== "EISDIR") throw error;
      await rm(path, { recursive: true, force: true });
      handle = await open(path, "w");
    }
    try {
      await handle.writeFile(JSON.stringify(sidecar));
      if (durable) await handle.datasync();
    } finally {
      await handle.close();
    }
    if (sync) await Promise.all([syncDir(dirname(path)), ...changed.map((dir) => syncDir(dir))]);
  }

  /**
   * Writes a sidecar to a staging file, flushed (no lock needed: nobody else knows the name). Only
   * the fsync goes through the thread pool; the rest is a few hundred bytes into the page cache.
   */
  async function stageSidecar(sidecar: Sidecar): Promise<string> {
    const temporary = join(stagingDir, `${randomUUID()}.json`);
    const fd = openSync(temporary, "wx");
    try {
      writeFileSync(fd, JSON.stringify(sidecar));
      if (durable) await fdatasyncFd(fd);
    } catch (error) {
      closeSync(fd);
      await rm(temporary, { force: true });
      throw error;
    }
    closeSync(fd);
    return temporary;
  }

  /**
   * Renames a staged sidecar into place for `key` (the caller holds the lock and fsyncs the folder
   * and the folders returned, see `makeDirs`).
   */
  async function placeSidecar(key: string, temporary: string): Promise<string[]> {
    const path = metaPath(key);
    const changed = makeDirs(dirname(path));
    try {
      renameSync(temporary, path);
    } catch (error) {
      // Orphan sidecars of deleted keys below a folder now taken by an object: drop them.
      if (errno(error) !== "EISDIR" && errno(error) !== "ENOTEMPTY") throw error;
      await rm(path, { recursive: true, force: true });
      renameSync(temporary, path);
    }
    return changed;
  }

  /**
   * Whether a write records nothing a file cannot tell by itself, so needs no sidecar: in
   * `"version"` mode, no metadata, no content type (or the default one) and no sha256 to record.
   */
  function needsNoSidecar(described: {
    sha256?: string;
    contentType?: string;
    metadata?: Readonly<Record<string, string>>;
  }): boolean {
    return (
      !md5Etags &&
      described.sha256 === undefined &&
      (described.contentType === undefined || described.contentType === DEFAULT_CONTENT_TYPE) &&
      Object.keys(described.metadata ?? {}).length === 0
    );
  }

  return { readSidecar, isStill, dropSidecar, writeSidecar, stageSidecar, placeSidecar, needsNoSidecar };
}

export type Sidecars = ReturnType<typeof createSidecars>;
