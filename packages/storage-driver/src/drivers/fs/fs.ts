import { createHash, randomUUID } from "node:crypto";
import {
  close,
  closeSync,
  constants,
  createReadStream,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  type Stats,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import {
  type FileHandle,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
  writeFile,
} from "node:fs/promises";
import { dirname, join, sep } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { WharfError } from "@wharf/errors";
import { createPresigner, escapeKeyPath } from "@wharf/s3-signing";
import {
  bodyError,
  checkBody,
  checkPutOptions,
  DigestingStream,
  heedErrors,
  isFillable,
  multipartEtag,
  throwIfAborted,
  toBufferOrReadable,
} from "../../body.ts";
import { RESERVED_SEGMENT, validateKey, validatePrefix } from "../../keys.ts";
import { listPage } from "../../list-page.ts";
import { checkRenamePrefixes } from "../../move.ts";
import { checkPartNumber, LOCAL_MULTIPART_LIMITS } from "../../parts.ts";
import { resolveRange } from "../../range.ts";
import type {
  BodyInput,
  Capabilities,
  ListedObject,
  MultipartPart,
  ObjectInfo,
  PutOptions,
  RenameOptions,
  StorageDriver,
} from "../../types.ts";
import { errno, translateFsError } from "./errors.ts";
import { withFileLock } from "./lock.ts";
import { FileBody } from "./read.ts";
import { sweepStaleFiles } from "./sweep.ts";
import { fsWalker } from "./walk.ts";
import { fdatasyncFd, fsyncFd, writeNewFile, writeNewFileFilled, writesAtOnce } from "./write-file.ts";

export interface FsPresignOptions {
  /** Public base URL of the route that mounts `handlePresignedRequest`, e.g. `https://app/storage`. */
  readonly baseUrl: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly region?: string;
}

export interface FsDriverOptions {
  /** Absolute directory holding the objects; created when missing. */
  readonly root: string;
  /** fsync files and folders before a write is acknowledged (default true). */
  readonly fsync?: boolean;
  readonly presign?: FsPresignOptions;
  /**
   * Staging files (bodies being written) untouched for this long are left over from a crashed
   * process and are removed by a bounded background sweep when the driver is created. Default
   * 1 hour, at least 1 minute; `Infinity` disables the sweep.
   */
  readonly stagingMaxAgeMs?: number;
  /**
   * What an object's etag is. `"md5"` (the default): the md5 of the body, as S3 gives for a
   * single-part upload; md5 and sha256 are computed on every write. `"version"`: an opaque id that
   * changes on every write (enough for `ifMatch`); writes compute no digest at all, except sha256
   * when the caller passes `sha256` to verify. For apps that never compare etags with content hashes.
   */
  readonly etag?: FsEtagMode;
}

/**
 * The content type a `"version"` mode write leaves unrecorded: what readers serve when an object
 * has none, so recording it would only cost a sidecar.
 */
const DEFAULT_CONTENT_TYPE = "application/octet-stream";

export type FsEtagMode = "md5" | "version";

/** What the sidecar beside each object records. `ino` ties it to one version of the data file. */
interface Sidecar {
  readonly v: 1;
  readonly ino: number;
  readonly size: number;
  readonly etag: string;
  readonly sha256?: string;
  readonly contentType?: string;
  readonly metadata: Record<string, string>;
}

/** An object's info, and whether a sidecar holds it (else the data file describes itself). */
interface Described {
  readonly info: ObjectInfo;
  readonly sidecar: boolean;
}

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

interface Conditions {
  readonly ifNoneMatch?: "*";
  readonly ifMatch?: string;
}

type UploadRecord = {
  readonly key: string;
  readonly contentType?: string;
  readonly metadata?: Record<string, string>;
} & Conditions;

const diskErrors = new Set(["ENOSPC", "EDQUOT", "EACCES", "EPERM", "EROFS", "EIO", "ENAMETOOLONG"]);
const uploadIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const partFilePattern = /^(\d{5})\.([0-9a-f]{32})$/;

function conflict(key: string, cause?: unknown): WharfError {
  return new WharfError(
    "INVALID_ARGUMENT",
    `${key} conflicts with an existing object or folder (the fs driver cannot hold both "a" and "a/b")`,
    { cause, details: { key } },
  );
}

function notFound(key: string): WharfError {
  return new WharfError("NOT_FOUND", `no object at ${key}`, { details: { key } });
}

function preconditionFailed(key: string, why: string): WharfError {
  return new WharfError("PRECONDITION_FAILED", `${why} at ${key}`, { details: { key } });
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

/**
 * Objects as plain files under `root` (`root/photos/cat.jpg` for key `photos/cat.jpg`), with a
 * JSON sidecar per object, staging, locks and multipart parts under `root/.wharf-storage/`.
 * Writes go to a staging file, are fsynced and renamed into place; conditional writes hold a
 * cross-process lock file. Keys that share a folder name with an object (`a` and `a/b`) conflict.
 *
 * @example
 * const storage = createFsDriver({ root: "/srv/wharf/data" });
 */
export function createFsDriver(options: FsDriverOptions): StorageDriver {
  const root = options.root;
  const internal = join(root, RESERVED_SEGMENT);
  const stagingDir = join(internal, "staging");
  const metaRoot = join(internal, "meta");
  const locksDir = join(internal, "locks");
  const uploadsDir = join(internal, "uploads");
  const durable = options.fsync ?? true;
  const md5Etags = (options.etag ?? "md5") === "md5";
  /** A new opaque etag in `"version"` mode: 32 hex digits, like an md5, so part file names fit. */
  const newVersion = () => randomUUID().replaceAll("-", "");
  /** The etag of a staged body. */
  const etagOf = (staged: Staged) => (md5Etags && staged.md5 !== undefined ? staged.md5 : newVersion());
  let readyPromise: Promise<string> | undefined;
  const stagingMaxAgeMs = Math.max(options.stagingMaxAgeMs ?? 60 * 60 * 1000, 60 * 1000);
  // Lazily, in the background: the first operation never waits for it (close() does).
  const sweeping =
    stagingMaxAgeMs === Number.POSITIVE_INFINITY
      ? Promise.resolve(0)
      : sweepStaleFiles(stagingDir, { olderThanMs: stagingMaxAgeMs });

  const capabilities: Capabilities = Object.freeze({
    rangeRead: true,
    conditionalWrite: true,
    presign: options.presign !== undefined,
    presignedPost: false,
    multipart: true,
    multipartLimits: LOCAL_MULTIPART_LIMITS,
    preferredWriteBufferBytes: 0,
    rename: true,
    folderMarkers: false,
    md5Etags,
  });
  const presigner = options.presign
    ? createPresigner({
        credentials: options.presign.credentials,
        region: options.presign.region ?? "us-east-1",
      })
    : undefined;

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
  const syncFile = syncDir;

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

  /**
   * In `"version"` mode, a file without a sidecar describes itself: no content type, no metadata,
   * and an etag derived from its inode, birth time, mtime and size, so it changes with every write
   * (each one renames a new file into place) and with any change made to the file in place.
   */
  function bareInfo(key: string, stats: Stats): ObjectInfo {
    const identity = `${stats.ino}:${stats.birthtimeMs}:${stats.mtimeMs}:${stats.size}`;
    return {
      key,
      size: stats.size,
      etag: createHash("md5").update(identity).digest("hex"),
      lastModified: stats.mtime,
      metadata: {},
    };
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

  function toInfo(key: string, sidecar: Sidecar, stats: { size: number; mtime: Date }): ObjectInfo {
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

  /**
   * Moves data file and sidecar under both keys' locks (taken in key order, so never a deadlock).
   * The inode moves with the data, so the source's sidecar describes it at the destination; it goes
   * into place before or after the move by the same rule as in `commit`.
   */
  async function renameObject(source: string, destination: string, conditions: RenameOptions) {
    const [first, second] = [source, destination].sort();
    const from = dataPath(source);
    const to = dataPath(destination);
    return lock(first!, () =>
      lock(second!, async () => {
        const moving = await current(source, from);
        if (!moving)
          throw new WharfError("NOT_FOUND", `no object at ${source}`, { details: { key: source } });
        const read = moving.sidecar ? await readSidecar(source) : "none";
        if (read === undefined || (moving.sidecar && read === "none"))
          throw new WharfError("INTERNAL", `the sidecar of ${source} vanished under its lock`);
        const sidecar = read === "none" ? undefined : read;
        const changed = new Set<string>();
        let placed = false;
        try {
          for (let attempt = 0; ; attempt++) {
            for (const dir of await makeParents(destination, to)) changed.add(dir);
            const existing = await current(destination, to);
            if (conditions.ifNoneMatch === "*" && existing)
              throw preconditionFailed(destination, "an object exists");
            if (sidecar && !placed && !existing?.sidecar) {
              await writeSidecar(destination, sidecar);
              placed = true;
            }
            try {
              if (conditions.ifNoneMatch === "*") {
                await link(from, to);
                await unlink(from);
              } else await rename(from, to);
              break;
            } catch (error) {
              if (errno(error) === "EEXIST") throw preconditionFailed(destination, "an object exists");
              if (errno(error) === "EISDIR" || errno(error) === "ENOTEMPTY")
                throw conflict(destination, error);
              if (errno(error) !== "ENOENT" || attempt >= 5) throw error;
            }
          }
        } catch (error) {
          if (placed && sidecar && !dataNamesInode(to, sidecar.ino))
            await dropSidecar(destination).catch(() => {});
          throw error;
        }
        if (sidecar && !placed) await writeSidecar(destination, sidecar);
        if (!sidecar) await dropSidecar(destination);
        await rm(metaPath(source), { force: true });
        changed.delete(dirname(to));
        await Promise.all([
          syncDir(dirname(from)),
          syncDir(dirname(to)),
          ...[...changed].map((dir) => syncDir(dir)),
        ]);
        return sidecar ? toInfo(destination, sidecar, await stat(to)) : bareInfo(destination, lstatSync(to));
      }),
    );
  }

  async function readUpload(key: string, uploadId: string): Promise<UploadRecord> {
    const missing = new WharfError("NOT_FOUND", `no multipart upload ${uploadId} for ${key}`, {
      details: { key, uploadId },
    });
    if (!uploadIdPattern.test(uploadId)) throw missing;
    await ready();
    try {
      const record = JSON.parse(
        await readFile(join(uploadsDir, uploadId, "upload.json"), "utf8"),
      ) as UploadRecord;
      if (record.key !== key) throw missing;
      return record;
    } catch (error) {
      if (errno(error) === "ENOENT") throw missing;
      throw translateFsError(error, key);
    }
  }

  async function readParts(uploadId: string): Promise<MultipartPart[]> {
    const dir = join(uploadsDir, uploadId);
    const parts: MultipartPart[] = [];
    for (const name of await readdir(dir)) {
      const match = partFilePattern.exec(name);
      if (!match) continue;
      const size = await stat(join(dir, name)).then(
        (s) => s.size,
        () => undefined,
      );
      if (size !== undefined) parts.push({ partNumber: Number(match[1]), etag: match[2]!, size });
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  const partName = (part: { partNumber: number; etag: string }) =>
    `${String(part.partNumber).padStart(5, "0")}.${part.etag}`;

  return {
    name: "fs",
    capabilities,

    async head(key) {
      validateKey(key);
      const quick = await quickInfo(key);
      if (quick) return quick;
      const { handle, info } = await openConsistent(key);
      await handle.close();
      return info;
    },

    async get(key, getOptions = {}) {
      validateKey(key);
      throwIfAborted(getOptions.signal);
      const { handle, info } = await openConsistent(key);
      try {
        if (getOptions.ifMatch !== undefined && getOptions.ifMatch !== info.etag) {
          throw preconditionFailed(key, "the etag does not match");
        }
        const range = getOptions.range ? resolveRange(getOptions.range, info.size) : undefined;
        const body = new FileBody(
          handle,
          range?.start ?? 0,
          range ? range.end + 1 : info.size,
          getOptions.signal,
        );
        return range ? { info, body, range } : { info, body };
      } catch (error) {
        await handle.close();
        throw error;
      }
    },

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

    async list(listOptions = {}) {
      if (listOptions.prefix) validatePrefix(listOptions.prefix);
      await ready();
      const describe = async (key: string): Promise<ListedObject | undefined> => {
        try {
          const { handle, info } = await openConsistent(key);
          await handle.close();
          return { key, size: info.size, etag: info.etag, lastModified: info.lastModified };
        } catch (error) {
          if (error instanceof WharfError && error.code === "NOT_FOUND") return undefined;
          throw error;
        }
      };
      try {
        return await listPage(fsWalker(root, describe), listOptions);
      } catch (error) {
        throw translateFsError(error);
      }
    },

    async copy(sourceKey, destinationKey, copyOptions = {}) {
      validateKey(sourceKey);
      validateKey(destinationKey);
      const { handle, info } = await openConsistent(sourceKey);
      const contentType = copyOptions.contentType ?? info.contentType;
      const staged = await stage(handle.createReadStream({ start: 0 }), undefined, undefined, {
        flush: false,
      });
      // The bytes are the source's: in "version" mode its recorded sha256 still holds.
      const sha256 = staged.sha256 ?? info.sha256;
      try {
        return await commit(
          destinationKey,
          staged,
          {
            etag: etagOf(staged),
            ...(sha256 === undefined ? {} : { sha256 }),
            metadata: copyOptions.metadata ?? info.metadata,
            ...(contentType === undefined ? {} : { contentType }),
          },
          copyOptions.ifNoneMatch ? { ifNoneMatch: "*" } : {},
        );
      } catch (error) {
        await rm(staged.path, { force: true });
        throw error;
      }
    },

    async rename(sourceKey, destinationKey, renameOptions = {}) {
      validateKey(sourceKey);
      validateKey(destinationKey);
      await ready();
      if (sourceKey === destinationKey) {
        const { handle, info } = await openConsistent(sourceKey);
        await handle.close();
        return info;
      }
      const info = await renameObject(sourceKey, destinationKey, renameOptions).catch((error) => {
        throw translateFsError(error, sourceKey);
      });
      await prune(dirname(dataPath(sourceKey)), root);
      await prune(dirname(metaPath(sourceKey)), metaRoot);
      return info;
    },

    async renamePrefix(sourcePrefix, destinationPrefix) {
      validatePrefix(sourcePrefix);
      validatePrefix(destinationPrefix);
      checkRenamePrefixes(sourcePrefix, destinationPrefix);
      await ready();
      const folder = (prefix: string) => prefix.slice(0, -1);
      const from = dataPath(folder(sourcePrefix));
      const to = dataPath(folder(destinationPrefix));
      try {
        const stats = await lstat(from).catch(() => undefined);
        if (!stats?.isDirectory()) {
          throw new WharfError("NOT_FOUND", `nothing below ${sourcePrefix}`, {
            details: { prefix: sourcePrefix },
          });
        }
        await assertInside(sourcePrefix, from);
        await makeParents(folder(destinationPrefix), to);
        const taken = await lstat(to).then(
          () => true,
          () => false,
        );
        if (taken) throw preconditionFailed(destinationPrefix, "something exists");
        // Sidecars first: a reader that finds data without its sidecar waits for the key lock and
        // then repairs it, so moving the data last keeps every moved object described.
        const metaFrom = metaPath(folder(sourcePrefix));
        const metaTo = metaPath(folder(destinationPrefix));
        await mkdir(dirname(metaTo), { recursive: true });
        await rm(metaTo, { recursive: true, force: true });
        await rename(metaFrom, metaTo).catch((error) => {
          if (errno(error) !== "ENOENT") throw error;
        });
        await rename(from, to);
        await syncDir(dirname(from));
        await syncDir(dirname(to));
      } catch (error) {
        if (errno(error) === "EEXIST" || errno(error) === "ENOTEMPTY") {
          throw preconditionFailed(destinationPrefix, "something exists");
        }
        throw translateFsError(error, sourcePrefix);
      }
      await prune(dirname(from), root);
      await prune(dirname(metaPath(folder(sourcePrefix))), metaRoot);
    },

    async presign(key, presignOptions) {
      validateKey(key);
      if (!presigner || !options.presign) {
        throw new WharfError(
          "UNSUPPORTED",
          "this fs driver was created without presign options (capability presign)",
          { details: { capability: "presign" } },
        );
      }
      const { method, expiresIn } = presignOptions;
      if (!Number.isSafeInteger(expiresIn) || expiresIn < 1 || expiresIn > 604_800) {
        throw new WharfError("INVALID_ARGUMENT", "expiresIn must be 1 … 604800 seconds");
      }
      const headers: Record<string, string> = {};
      if (method === "PUT" && presignOptions.contentType !== undefined)
        headers["content-type"] = presignOptions.contentType;
      if (method === "PUT" && presignOptions.contentLength !== undefined) {
        headers["content-length"] = String(presignOptions.contentLength);
      }
      if (method === "PUT" && presignOptions.sha256 !== undefined) {
        headers["x-amz-checksum-sha256"] = Buffer.from(presignOptions.sha256, "hex").toString("base64");
      }
      const query: Record<string, string> = {};
      if (method === "GET" && presignOptions.responseContentDisposition !== undefined) {
        query["response-content-disposition"] = presignOptions.responseContentDisposition;
      }
      const signedAt = Date.now();
      const url = presigner.presignUrl({
        method,
        url: `${options.presign.baseUrl.replace(/\/$/, "")}/${escapeKeyPath(key)}`,
        expiresIn,
        headers,
        query,
        now: signedAt,
      });
      return { url, method, headers, expiresAt: new Date(signedAt + expiresIn * 1000) };
    },

    async createMultipart(key, multipartOptions = {}) {
      validateKey(key);
      await ready();
      const uploadId = randomUUID();
      const record: UploadRecord = { key, ...multipartOptions };
      const { signal: _, ...serialisable } = record as UploadRecord & { signal?: unknown };
      try {
        await mkdir(join(uploadsDir, uploadId));
        await writeFile(join(uploadsDir, uploadId, "upload.json"), JSON.stringify(serialisable), {
          flush: durable,
        });
      } catch (error) {
        throw translateFsError(error, key);
      }
      return uploadId;
    },

    async uploadPart(key, uploadId, partNumber, body, partOptions = {}) {
      heedErrors(body);
      validateKey(key);
      checkPartNumber(partNumber);
      await readUpload(key, uploadId);
      const staged = await stage(toBufferOrReadable(body), partOptions.size, partOptions.signal);
      try {
        checkBody(staged, partOptions);
        const dir = join(uploadsDir, uploadId);
        const part: MultipartPart = { partNumber, etag: etagOf(staged), size: staged.size };
        await rename(staged.path, join(dir, partName(part)));
        for (const other of await readdir(dir)) {
          if (other.startsWith(`${partName(part).slice(0, 5)}.`) && other !== partName(part)) {
            await rm(join(dir, other), { force: true });
          }
        }
        return part;
      } catch (error) {
        if (errno(error) === "ENOENT") await readUpload(key, uploadId);
        throw translateFsError(error, key);
      } finally {
        await rm(staged.path, { force: true });
      }
    },

    async listParts(key, uploadId) {
      validateKey(key);
      await readUpload(key, uploadId);
      return readParts(uploadId).catch((error) => {
        throw translateFsError(error, key);
      });
    },

    async completeMultipart(key, uploadId, parts) {
      validateKey(key);
      const record = await readUpload(key, uploadId);
      if (parts.length === 0) throw new WharfError("INVALID_ARGUMENT", "a multipart upload needs a part");
      const dir = join(uploadsDir, uploadId);
      const uploaded = new Map((await readParts(uploadId)).map((part) => [part.partNumber, part]));
      parts.forEach((part, index) => {
        if (uploaded.get(part.partNumber)?.etag !== part.etag) {
          throw new WharfError("INVALID_ARGUMENT", `part ${part.partNumber} was not uploaded with that etag`);
        }
        if (index > 0 && part.partNumber <= parts[index - 1]!.partNumber) {
          throw new WharfError("INVALID_ARGUMENT", "parts must be listed in ascending order");
        }
      });
      const files = parts.map((part) => join(dir, partName(part)));
      const body = Readable.from(
        (async function* () {
          for (const file of files) yield* createReadStream(file);
        })(),
      );
      const staged = await stage(body, undefined, undefined, { flush: false });
      try {
        const info = await commit(
          key,
          staged,
          {
            etag: md5Etags ? multipartEtag(parts.map((part) => part.etag)) : newVersion(),
            ...(staged.sha256 === undefined ? {} : { sha256: staged.sha256 }),
            ...(record.contentType === undefined ? {} : { contentType: record.contentType }),
            ...(record.metadata === undefined ? {} : { metadata: record.metadata }),
          },
          record,
        );
        await rm(dir, { recursive: true, force: true });
        return info;
      } catch (error) {
        await rm(staged.path, { force: true });
        throw error;
      }
    },

    async abortMultipart(key, uploadId) {
      validateKey(key);
      if (!uploadIdPattern.test(uploadId)) return;
      await rm(join(uploadsDir, uploadId), { recursive: true, force: true }).catch((error) => {
        throw translateFsError(error, key);
      });
    },

    async *listMultipartUploads(prefix = "") {
      if (prefix) validatePrefix(prefix);
      await ready();
      let ids: string[];
      try {
        ids = (await readdir(uploadsDir)).filter((id) => uploadIdPattern.test(id)).sort();
      } catch (error) {
        throw translateFsError(error);
      }
      for (const uploadId of ids) {
        const recordPath = join(uploadsDir, uploadId, "upload.json");
        // Gone meanwhile (completed or aborted), or not yet written: not pending.
        const found = await Promise.all([readFile(recordPath, "utf8"), stat(recordPath)]).catch(
          () => undefined,
        );
        if (!found) continue;
        let key: unknown;
        try {
          key = (JSON.parse(found[0]) as UploadRecord).key;
        } catch {
          continue;
        }
        if (typeof key === "string" && key.startsWith(prefix))
          yield { key, uploadId, initiated: found[1].mtime };
      }
    },

    async close() {
      await sweeping;
    },
  };
}
