import { PassThrough, type Readable } from "node:stream";
import { isWharfError } from "@wharf/errors";
import { listAll, listAllObjects, moveObject, type StorageDriver } from "@wharf/storage-driver";
import { userError } from "./errors.ts";
import type { Entry } from "./listing.ts";
import { baseName, dirPrefix, globMatcher, isGlob, keyOf, parentOf } from "./paths.ts";
import { createUploader, type Uploader } from "./upload.ts";

export interface VfsOptions {
  readonly driver: StorageDriver;
  /** Key prefix of the user's root, without slashes ("" = the store root). */
  readonly home: string;
  /** aioftps3's marker suffix: directory `/a` is the object `a<dirSuffix>` (e.g. `a/.s3keep`). */
  readonly dirSuffix: string;
  /** RMD of a non-empty directory deletes everything under it (aioftps3) instead of failing with 550. */
  readonly rmdRecursive?: boolean;
  /** How uploads reach the store (see upload.ts); default `driver.put` of the stream. */
  readonly uploader?: Uploader;
  /**
   * A folder's own time where the store keeps one (its directory's mtime on a local disk), by its
   * key prefix (`a/b/`, `""` for the store root); `undefined` when there is none.
   */
  readonly folderTime?: FolderTime;
  /** The time shown for a folder the store knows no time of (the listing time); default the clock. */
  readonly now?: () => Date;
  /** aioftps3's order: each page of up to 1000 entries lists its folders first, then its files. */
  readonly foldersFirst?: boolean;
}

export type FolderTime = (prefix: string) => Promise<Date | undefined>;

export type Vfs = ReturnType<typeof createVfs>;

const copyConcurrency = 8;
/** Folder times looked up ahead of the entry being sent, while a listing streams. */
const folderTimeLookahead = 16;
/** aioftps3's `max-keys`. */
const pageSize = 1000;

/**
 * A directory tree over a flat object store: directories are marker objects (or any key below the
 * prefix, so folders made outside the gateway show too), files are objects. Paths are normalised
 * virtual paths from `resolvePath`; every method fails with WharfErrors carrying a text for the user (`userError`).
 */
export function createVfs(options: VfsOptions) {
  const { driver, home, dirSuffix } = options;
  const markerName = dirSuffix.slice(1);
  const marker = (path: string) => `${keyOf(home, path)}${dirSuffix}`;
  const absent = <T>(promise: Promise<T>): Promise<T | undefined> =>
    promise.catch((error: unknown) => {
      if (isWharfError(error, "NOT_FOUND")) return undefined;
      throw error;
    });

  const now = options.now ?? (() => new Date());
  const uploader = options.uploader ?? createUploader({ driver });

  /** A folder's marker and first child, or `undefined` when it does not exist. */
  async function folder(path: string) {
    const [mark, page] = await Promise.all([
      absent(driver.head(marker(path))),
      driver.list({ prefix: dirPrefix(home, path), limit: 1 }),
    ]);
    if (mark === undefined && page.objects.length === 0 && page.prefixes.length === 0) return undefined;
    return { mark, first: page.objects[0] };
  }

  async function isDir(path: string): Promise<boolean> {
    return path === "/" || (await folder(path)) !== undefined;
  }

  /**
   * What the store knows of a folder's time: its own (local disk), else its marker's, else the
   * newest child at hand, else the listing time. (aioftps3 showed 1 January 1970 for every folder.)
   */
  async function folderModified(
    path: string,
    known?: { mark?: { lastModified: Date } | undefined; first?: { lastModified: Date } | undefined },
  ): Promise<Date> {
    const own = await options.folderTime?.(dirPrefix(home, path));
    if (own) return own;
    if (path === "/") return now();
    const mark = known ? known.mark : await absent(driver.head(marker(path)));
    return mark?.lastModified ?? known?.first?.lastModified ?? now();
  }

  async function stat(path: string): Promise<Entry | undefined> {
    if (path === "/") return { name: "/", type: "dir", size: 0, modified: await folderModified(path) };
    const [file, dir] = await Promise.all([absent(driver.head(keyOf(home, path))), folder(path)]);
    if (dir) return { name: baseName(path), type: "dir", size: 0, modified: await folderModified(path, dir) };
    if (file) return { name: baseName(path), type: "file", size: file.size, modified: file.lastModified };
    return undefined;
  }

  async function requireDir(path: string, missing = "No such directory."): Promise<void> {
    if (!(await isDir(path))) throw userError("NOT_FOUND", missing);
  }

  async function requireFile(path: string): Promise<Entry> {
    const entry = await stat(path);
    if (!entry) throw userError("NOT_FOUND", "No such file.");
    if (entry.type !== "file") throw userError("NOT_FOUND", "Not a regular file.");
    return entry;
  }

  /**
   * Streams a directory page by page; a file path yields that one file (as `ls` does). A last
   * segment with `*` or `?` that names nothing lists the matching entries of its folder.
   */
  async function* list(path: string): AsyncGenerator<Entry> {
    const entry = await stat(path);
    if (!entry && path !== "/" && isGlob(baseName(path))) {
      const matches = globMatcher(baseName(path));
      const parent = parentOf(path);
      if (!(await isDir(parent))) throw userError("NOT_FOUND", "No such file or directory.");
      for await (const item of withFolderTimes(parent, entries(parent))) if (matches(item.name)) yield item;
      return;
    }
    if (!entry) throw userError("NOT_FOUND", "No such file or directory.");
    if (entry.type === "file") {
      yield entry;
      return;
    }
    yield* withFolderTimes(path, entries(path));
  }

  /** A folder's entries, folder times still to be looked up (`modified` unset on folders). */
  async function* entries(path: string): AsyncGenerator<Entry | { name: string; type: "dir" }> {
    const prefix = dirPrefix(home, path);
    const file = (object: { key: string; size: number; lastModified: Date }) => {
      const name = object.key.slice(prefix.length);
      return name === "" || name === markerName
        ? undefined
        : { name, type: "file" as const, size: object.size, modified: object.lastModified };
    };
    if (!options.foldersFirst) {
      for await (const item of listAll(driver, { prefix, delimiter: "/" })) {
        if (item.kind === "prefix") {
          const name = item.prefix.slice(prefix.length, -1);
          if (name) yield { name, type: "dir" };
        } else {
          const entry = file(item.object);
          if (entry) yield entry;
        }
      }
      return;
    }
    let cursor: string | undefined;
    do {
      const page = await driver.list({
        prefix,
        delimiter: "/",
        limit: pageSize,
        ...(cursor ? { cursor } : {}),
      });
      for (const p of page.prefixes) {
        const name = p.slice(prefix.length, -1);
        if (name) yield { name, type: "dir" };
      }
      for (const object of page.objects) {
        const entry = file(object);
        if (entry) yield entry;
      }
      cursor = page.cursor;
    } while (cursor);
  }

  /** Adds each folder's time, looking a few folders ahead so the lookups overlap. */
  async function* withFolderTimes(
    parent: string,
    source: AsyncIterable<Entry | { name: string; type: "dir" }>,
  ): AsyncGenerator<Entry> {
    const base = parent === "/" ? "" : parent;
    const pending: Promise<Entry>[] = [];
    for await (const item of source) {
      let next: Promise<Entry>;
      if ("modified" in item) next = Promise.resolve(item);
      else {
        next = folderModified(`${base}/${item.name}`).then((modified) => ({ ...item, size: 0, modified }));
        next.catch(() => {});
      }
      pending.push(next);
      if (pending.length >= folderTimeLookahead) yield await (pending.shift() as Promise<Entry>);
    }
    while (pending.length > 0) yield await (pending.shift() as Promise<Entry>);
  }

  async function mkdir(path: string): Promise<void> {
    if (path === "/") throw userError("ALREADY_EXISTS", "Directory exists.");
    await requireDir(parentOf(path), "Parent directory does not exist.");
    if (await stat(path)) throw userError("ALREADY_EXISTS", "File or directory exists.");
    const conditional = driver.capabilities.conditionalWrite ? { ifNoneMatch: "*" as const } : {};
    await driver.put(marker(path), "", { ...conditional, contentType: "application/x-directory" });
  }

  async function rmdir(path: string): Promise<void> {
    if (path === "/") throw userError("PERMISSION_DENIED", "Cannot remove the root directory.");
    await requireDir(path);
    const prefix = dirPrefix(home, path);
    const ownMarker = marker(path);
    for await (const object of listAllObjects(driver, { prefix })) {
      if (object.key === ownMarker) continue;
      if (!options.rmdRecursive) throw userError("PERMISSION_DENIED", "Directory not empty.");
      await driver.delete(object.key);
    }
    await driver.delete(ownMarker);
  }

  async function remove(path: string): Promise<void> {
    if (path === "/") throw userError("NOT_FOUND", "Not a regular file.");
    await requireFile(path);
    await driver.delete(keyOf(home, path));
  }

  async function rename(from: string, to: string): Promise<void> {
    if (from === "/" || to === "/") throw userError("PERMISSION_DENIED", "Cannot rename the root directory.");
    const source = await stat(from);
    if (!source) throw userError("NOT_FOUND", "No such file or directory.");
    if (from === to) return;
    await requireDir(parentOf(to), "Target directory does not exist.");
    const target = await stat(to);
    if (source.type === "file") {
      if (target?.type === "dir") throw userError("ALREADY_EXISTS", "A directory has that name.");
      // rename(2) on fs (replacing an existing file, as rename(2) does); copy then delete on S3.
      await moveObject(driver, keyOf(home, from), keyOf(home, to));
      return;
    }
    if (to.startsWith(`${from}/`))
      throw userError("INVALID_ARGUMENT", "Cannot move a directory into itself.");
    if (target) throw userError("ALREADY_EXISTS", "Target exists.");
    const fromPrefix = dirPrefix(home, from);
    const toPrefix = dirPrefix(home, to);
    if (driver.capabilities.rename) {
      // One atomic folder rename (fs); the marker moves with the folder.
      await driver.renamePrefix(fromPrefix, toPrefix).catch((error: unknown) => {
        if (isWharfError(error, "PRECONDITION_FAILED")) throw userError("ALREADY_EXISTS", "Target exists.");
        throw error;
      });
      return;
    }
    // Two passes so memory stays bounded however many keys the folder holds, and a failure half way
    // leaves the whole source in place: copy all, then delete all.
    await forEachBounded(listAllObjects(driver, { prefix: fromPrefix }), (object) =>
      driver.copy(object.key, toPrefix + object.key.slice(fromPrefix.length)).then(() => undefined),
    );
    if (!(await absent(driver.head(marker(to))))) await driver.put(marker(to), "");
    await forEachBounded(listAllObjects(driver, { prefix: fromPrefix }), (object) =>
      driver.delete(object.key),
    );
    await driver.delete(marker(from));
  }

  /** Opens a file for RETR at `offset` (REST). */
  async function read(path: string, offset: number, signal?: AbortSignal): Promise<Readable> {
    const entry = await requireFile(path);
    if (offset > entry.size) throw userError("RANGE_NOT_SATISFIABLE", "Restart position beyond end of file.");
    if (offset === entry.size && offset > 0) return emptyStream();
    const result = await driver.get(
      keyOf(home, path),
      offset > 0 ? { range: { start: offset }, signal } : { signal },
    );
    return result.body;
  }

  /** Checks a STOR target before the client is told to send (so errors come before 150). */
  async function checkWritable(path: string): Promise<Entry | undefined> {
    if (path === "/") throw userError("NOT_FOUND", "Not a regular file.");
    const [parentIsDir, entry] = await Promise.all([isDir(parentOf(path)), stat(path)]);
    if (!parentIsDir) throw userError("NOT_FOUND", "Directory does not exist.");
    if (entry?.type === "dir") throw userError("NOT_FOUND", "A directory has that name.");
    return entry;
  }

  /** Stores `body` at `path` atomically, from `offset` on (see upload.ts: what happens on upload). */
  function write(path: string, body: Readable, offset: number, signal?: AbortSignal): Promise<void> {
    return uploader.write(keyOf(home, path), body, offset, signal);
  }

  return { stat, list, mkdir, rmdir, remove, rename, read, write, checkWritable, isDir, requireDir };
}

function emptyStream(): Readable {
  const stream = new PassThrough();
  stream.end();
  return stream;
}

async function forEachBounded<T>(items: AsyncIterable<T>, run: (item: T) => Promise<void>): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  for await (const item of items) {
    if (failure) break;
    const task: Promise<void> = run(item)
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => running.delete(task));
    running.add(task);
    if (running.size >= copyConcurrency) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure) throw failure.error;
}
