import { PassThrough, Readable } from "node:stream";
import { isWharfError } from "@wharf/errors";
import { heedErrors, listAll, listAllObjects, moveObject, type StorageDriver } from "@wharf/storage-driver";
import { baseName, dirPrefix, keyOf, parentOf } from "./paths.ts";
import { ftpError } from "./replies.ts";

/** One entry of a directory as FTP shows it. */
export interface Entry {
  readonly name: string;
  readonly type: "file" | "dir";
  readonly size: number;
  readonly modified: Date;
}

export interface VfsOptions {
  readonly driver: StorageDriver;
  /** Key prefix of the user's root, without slashes ("" = the store root). */
  readonly home: string;
  /** aioftps3's marker suffix: directory `/a` is the object `a<dirSuffix>` (e.g. `a/.s3keep`). */
  readonly dirSuffix: string;
  /** RMD of a non-empty directory deletes everything under it (aioftps3) instead of failing with 550. */
  readonly rmdRecursive?: boolean;
  /** Writes a whole object from a stream; default `driver.put`. */
  readonly store?: Store;
}

/** Stores `body` at `key` atomically (nothing visible unless it completes). */
export type Store = (key: string, body: Readable, signal?: AbortSignal) => Promise<void>;

export type Vfs = ReturnType<typeof createVfs>;

const epoch = new Date(0);
const copyConcurrency = 8;

/**
 * A directory tree over a flat object store: directories are marker objects (or any key below the
 * prefix, so folders made outside the gateway show too), files are objects. Paths are normalised
 * virtual paths from `resolvePath`; every method fails with WharfErrors carrying an FTP reply text.
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

  async function isDir(path: string): Promise<boolean> {
    if (path === "/") return true;
    const [mark, page] = await Promise.all([
      absent(driver.head(marker(path))),
      driver.list({ prefix: dirPrefix(home, path), limit: 1 }),
    ]);
    return mark !== undefined || page.objects.length > 0 || page.prefixes.length > 0;
  }

  async function stat(path: string): Promise<Entry | undefined> {
    if (path === "/") return { name: "/", type: "dir", size: 0, modified: epoch };
    const [file, dir] = await Promise.all([absent(driver.head(keyOf(home, path))), isDir(path)]);
    if (dir) return { name: baseName(path), type: "dir", size: 0, modified: epoch };
    if (file) return { name: baseName(path), type: "file", size: file.size, modified: file.lastModified };
    return undefined;
  }

  async function requireDir(path: string, missing = "No such directory."): Promise<void> {
    if (!(await isDir(path))) throw ftpError("NOT_FOUND", missing);
  }

  async function requireFile(path: string): Promise<Entry> {
    const entry = await stat(path);
    if (!entry) throw ftpError("NOT_FOUND", "No such file.");
    if (entry.type !== "file") throw ftpError("NOT_FOUND", "Not a regular file.");
    return entry;
  }

  /** Streams a directory page by page; a file path yields that one file (as `ls` does). */
  async function* list(path: string): AsyncGenerator<Entry> {
    const entry = await stat(path);
    if (!entry) throw ftpError("NOT_FOUND", "No such file or directory.");
    if (entry.type === "file") {
      yield entry;
      return;
    }
    const prefix = dirPrefix(home, path);
    for await (const item of listAll(driver, { prefix, delimiter: "/" })) {
      if (item.kind === "prefix") {
        const name = item.prefix.slice(prefix.length, -1);
        if (name) yield { name, type: "dir", size: 0, modified: epoch };
        continue;
      }
      const name = item.object.key.slice(prefix.length);
      if (name === "" || name === markerName) continue;
      yield { name, type: "file", size: item.object.size, modified: item.object.lastModified };
    }
  }

  async function mkdir(path: string): Promise<void> {
    if (path === "/") throw ftpError("ALREADY_EXISTS", "Directory exists.");
    await requireDir(parentOf(path), "Parent directory does not exist.");
    if (await stat(path)) throw ftpError("ALREADY_EXISTS", "File or directory exists.");
    const conditional = driver.capabilities.conditionalWrite ? { ifNoneMatch: "*" as const } : {};
    await driver.put(marker(path), "", { ...conditional, contentType: "application/x-directory" });
  }

  async function rmdir(path: string): Promise<void> {
    if (path === "/") throw ftpError("PERMISSION_DENIED", "Cannot remove the root directory.");
    await requireDir(path);
    const prefix = dirPrefix(home, path);
    const ownMarker = marker(path);
    for await (const object of listAllObjects(driver, { prefix })) {
      if (object.key === ownMarker) continue;
      if (!options.rmdRecursive) throw ftpError("PERMISSION_DENIED", "Directory not empty.");
      await driver.delete(object.key);
    }
    await driver.delete(ownMarker);
  }

  async function remove(path: string): Promise<void> {
    if (path === "/") throw ftpError("NOT_FOUND", "Not a regular file.");
    await requireFile(path);
    await driver.delete(keyOf(home, path));
  }

  async function rename(from: string, to: string): Promise<void> {
    if (from === "/" || to === "/") throw ftpError("PERMISSION_DENIED", "Cannot rename the root directory.");
    const source = await stat(from);
    if (!source) throw ftpError("NOT_FOUND", "No such file or directory.");
    if (from === to) return;
    await requireDir(parentOf(to), "Target directory does not exist.");
    const target = await stat(to);
    if (source.type === "file") {
      if (target?.type === "dir") throw ftpError("ALREADY_EXISTS", "A directory has that name.");
      // rename(2) on fs (replacing an existing file, as rename(2) does); copy then delete on S3.
      await moveObject(driver, keyOf(home, from), keyOf(home, to));
      return;
    }
    if (to.startsWith(`${from}/`)) throw ftpError("INVALID_ARGUMENT", "Cannot move a directory into itself.");
    if (target) throw ftpError("ALREADY_EXISTS", "Target exists.");
    const fromPrefix = dirPrefix(home, from);
    const toPrefix = dirPrefix(home, to);
    if (driver.capabilities.rename) {
      // One atomic folder rename (fs); the marker moves with the folder.
      await driver.renamePrefix(fromPrefix, toPrefix).catch((error: unknown) => {
        if (isWharfError(error, "PRECONDITION_FAILED")) throw ftpError("ALREADY_EXISTS", "Target exists.");
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
    if (offset > entry.size) throw ftpError("RANGE_NOT_SATISFIABLE", "Restart position beyond end of file.");
    if (offset === entry.size && offset > 0) return emptyStream();
    const result = await driver.get(
      keyOf(home, path),
      offset > 0 ? { range: { start: offset }, signal } : { signal },
    );
    return result.body;
  }

  /** Checks a STOR target before the client is told to send (so errors come before 150). */
  async function checkWritable(path: string): Promise<Entry | undefined> {
    if (path === "/") throw ftpError("NOT_FOUND", "Not a regular file.");
    const [parentIsDir, entry] = await Promise.all([isDir(parentOf(path)), stat(path)]);
    if (!parentIsDir) throw ftpError("NOT_FOUND", "Directory does not exist.");
    if (entry?.type === "dir") throw ftpError("NOT_FOUND", "A directory has that name.");
    return entry;
  }

  /**
   * Stores `body` at `path` atomically. With `offset` > 0 the first `offset` bytes of the existing
   * file are kept and `body` continues from there (REST + STOR, APPE): the store sees one new whole
   * object, so a failed resume leaves the old file as it was.
   */
  async function write(path: string, body: Readable, offset: number, signal?: AbortSignal): Promise<void> {
    const key = keyOf(home, path);
    let input: Readable = body;
    if (offset > 0) {
      const existing = await driver.get(key, { range: { start: 0, end: offset - 1 }, signal });
      input = concatStreams(existing.body, body);
    }
    if (options.store) await options.store(key, input, signal);
    else await driver.put(key, input, { signal });
  }

  return { stat, list, mkdir, rmdir, remove, rename, read, write, checkWritable, isDir, requireDir };
}

function emptyStream(): Readable {
  const stream = new PassThrough();
  stream.end();
  return stream;
}

/**
 * `first`'s bytes, then `second`'s. `second` (the client's upload) is not read while `first` is
 * copied, so its failure then is heeded here and met when its turn comes; both are destroyed when
 * the result ends, fails or is destroyed.
 */
function concatStreams(first: Readable, second: Readable): Readable {
  heedErrors(second);
  return Readable.from(
    (async function* () {
      try {
        yield* first;
        yield* second;
      } finally {
        first.destroy();
        second.destroy();
      }
    })(),
    { objectMode: false, highWaterMark: 1 << 20 },
  );
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
