import type { Dirent } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { WharfError } from "@wharf/errors";
import { compareKeys } from "../../compare-keys.ts";
import { RESERVED_SEGMENT, validatePrefix } from "../../keys.ts";
import { listPage, mayContain, type WalkEntry, type WalkState } from "../../list-page.ts";
import type { ListedObject, StorageDriver } from "../../types.ts";
import type { FsContext } from "./context.ts";
import type { Describer } from "./describe.ts";
import { translateFsError } from "./errors.ts";

interface Child {
  readonly name: string;
  readonly folder: boolean;
  /** Key of a file, or key prefix (ending with `/`) of a folder. */
  readonly sortKey: string;
}

/** Folders at least this large keep their sorted entries between pages (see `children`). */
const CACHE_MIN_ENTRIES = 2000;
/** A folder untouched for this long has an mtime any later change must move. */
const QUIET_MS = 2000;
const CACHE_FOLDERS = 8;
const cache = new Map<string, { readonly mtimeNs: bigint; readonly children: Child[] }>();

async function mtimeNs(directory: string): Promise<bigint | undefined> {
  try {
    return (await stat(directory, { bigint: true })).mtimeNs;
  } catch {
    return undefined;
  }
}

/**
 * A folder's entries in key order. Paging through a folder of 200,000 files would otherwise read
 * and sort it once per page; large folders are kept (a few, most recently used) and reused while
 * their mtime is unchanged. Only a folder quiet for `QUIET_MS` before it was read is kept: every
 * later change then sets an mtime past the kept one, whatever the filesystem's clock granularity.
 */
async function children(directory: string, keyPrefix: string): Promise<Child[]> {
  const id = `${keyPrefix}\0${directory}`;
  const before = await mtimeNs(directory);
  const kept = cache.get(id);
  if (kept && before !== undefined && kept.mtimeNs === before) {
    cache.delete(id);
    cache.set(id, kept);
    return kept.children;
  }
  const result = await readChildren(directory, keyPrefix);
  const quietSince = BigInt(Date.now() - QUIET_MS) * 1_000_000n;
  if (
    result.length >= CACHE_MIN_ENTRIES &&
    before !== undefined &&
    before < quietSince &&
    (await mtimeNs(directory)) === before
  ) {
    cache.set(id, { mtimeNs: before, children: result });
    if (cache.size > CACHE_FOLDERS) cache.delete(cache.keys().next().value as string);
  } else cache.delete(id);
  return result;
}

async function readChildren(directory: string, keyPrefix: string): Promise<Child[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw error;
  }
  const result: Child[] = [];
  for (const entry of entries) {
    if (keyPrefix === "" && entry.name === RESERVED_SEGMENT) continue;
    // Symbolic links, sockets and the like are never objects and never followed.
    if (entry.isDirectory())
      result.push({ name: entry.name, folder: true, sortKey: `${keyPrefix}${entry.name}/` });
    else if (entry.isFile())
      result.push({ name: entry.name, folder: false, sortKey: `${keyPrefix}${entry.name}` });
  }
  return result.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
}

/**
 * Index of the first child a page after `after` can need: the first sorted after it, or the folder
 * just before that one when `after` lies inside it (no other sort key falls between the two).
 */
function firstWanted(sorted: readonly Child[], after: string | undefined): number {
  if (after === undefined) return 0;
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareKeys(sorted[middle]!.sortKey, after) <= 0) low = middle + 1;
    else high = middle;
  }
  const previous = sorted[low - 1];
  return previous?.folder && after.startsWith(previous.sortKey) ? low - 1 : low;
}

/**
 * Walks the data tree depth-first in key byte order, reading only folders that can hold keys of
 * the page (one `readdir` per folder visited; files are described only when listed).
 */
export function fsWalker(root: string, describe: (key: string) => Promise<ListedObject | undefined>) {
  async function* walk(directory: string, keyPrefix: string, state: WalkState): AsyncGenerator<WalkEntry> {
    const sorted = await children(directory, keyPrefix);
    for (let index = firstWanted(sorted, state.after); index < sorted.length; index++) {
      const child = sorted[index]!;
      if (child.folder) {
        if (mayContain(state, child.sortKey)) yield* walk(join(directory, child.name), child.sortKey, state);
      } else {
        const key = child.sortKey;
        yield { key, load: () => describe(key) };
      }
    }
  }
  return (state: WalkState): AsyncIterable<WalkEntry> => {
    // Start in the deepest folder the prefix names completely.
    const cut = state.prefix.lastIndexOf("/") + 1;
    const start = state.prefix.slice(0, cut);
    return walk(join(root, ...start.split("/").filter(Boolean)), start, state);
  };
}

/** `list`: the folders under the root walked in key order, each file described as `head` does. */
export function createList(fs: FsContext, describer: Describer): Pick<StorageDriver, "list"> {
  const { ready, root } = fs;
  const { openConsistent } = describer;
  return {
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
  };
}
