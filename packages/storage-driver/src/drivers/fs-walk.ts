import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { compareKeys } from "../compare-keys.ts";
import { RESERVED_SEGMENT } from "../keys.ts";
import { mayContain, type WalkEntry, type WalkState } from "../list-page.ts";
import type { ListedObject } from "../types.ts";

interface Child {
  readonly name: string;
  readonly folder: boolean;
  /** Key of a file, or key prefix (ending with `/`) of a folder. */
  readonly sortKey: string;
}

async function children(directory: string, keyPrefix: string): Promise<Child[]> {
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
 * Walks the data tree depth-first in key byte order, reading only folders that can hold keys of
 * the page (one `readdir` per folder visited; files are described only when listed).
 */
export function fsWalker(root: string, describe: (key: string) => Promise<ListedObject | undefined>) {
  async function* walk(directory: string, keyPrefix: string, state: WalkState): AsyncGenerator<WalkEntry> {
    for (const child of await children(directory, keyPrefix)) {
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
