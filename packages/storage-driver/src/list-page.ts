import { WharfError } from "@wharf/errors";
import { throwIfAborted } from "./body.ts";
import { compareKeys } from "./compare-keys.ts";
import type { ListedObject, ListOptions, ListPage } from "./types.ts";

/**
 * Where a walk stands. Walkers read it to prune: a key or folder is wanted unless `excluded`.
 * The paginator moves `skipPrefix` forward as it rolls keys up into common prefixes.
 */
export interface WalkState {
  readonly prefix: string;
  readonly after: string | undefined;
  /** `after` was a common prefix: every key under it was already returned. */
  readonly afterIsPrefix: boolean;
  skipPrefix: string | undefined;
}

export interface WalkEntry {
  readonly key: string;
  /** The listing row, or undefined when the object vanished meanwhile. */
  load(): Promise<ListedObject | undefined>;
}

/** Yields candidate keys in UTF-8 byte order; may yield excluded ones (they are filtered). */
export type Walker = (state: WalkState) => AsyncIterable<WalkEntry>;

/** True when `key` must not appear in this page. */
export function isExcluded(state: WalkState, key: string): boolean {
  if (!key.startsWith(state.prefix)) return true;
  if (state.skipPrefix !== undefined && key.startsWith(state.skipPrefix)) return true;
  if (state.after !== undefined) {
    if (compareKeys(key, state.after) <= 0) return true;
    if (state.afterIsPrefix && key.startsWith(state.after)) return true;
  }
  return false;
}

/** False when no key starting with `folder` (which ends with `/`) can be in this page. */
export function mayContain(state: WalkState, folder: string): boolean {
  if (!folder.startsWith(state.prefix) && !state.prefix.startsWith(folder)) return false;
  if (state.skipPrefix !== undefined && folder.startsWith(state.skipPrefix)) return false;
  const after = state.after;
  if (after === undefined || after.startsWith(folder)) return true;
  if (state.afterIsPrefix && folder.startsWith(after)) return false;
  return compareKeys(folder, after) > 0;
}

interface Cursor {
  readonly k: string;
  readonly p: boolean;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), "utf8").toString("base64url");
}

function decodeCursor(cursor: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as Cursor;
    if (typeof value.k === "string" && typeof value.p === "boolean") return value;
  } catch {}
  throw new WharfError("INVALID_ARGUMENT", "malformed list cursor");
}

/** Clamps the `limit` option to 1 … 1000. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return 1000;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new WharfError("INVALID_ARGUMENT", "limit must be a positive integer");
  }
  return Math.min(limit, 1000);
}

/** Builds one listing page from a walker; shared by the memory and fs drivers. */
export async function listPage(walker: Walker, options: ListOptions = {}): Promise<ListPage> {
  const limit = pageLimit(options.limit);
  const prefix = options.prefix ?? "";
  const delimiter = options.delimiter || undefined;
  let after: string | undefined;
  let afterIsPrefix = false;
  if (options.cursor) ({ k: after, p: afterIsPrefix } = decodeCursor(options.cursor));
  if (
    options.startAfter !== undefined &&
    (after === undefined || compareKeys(options.startAfter, after) > 0)
  ) {
    after = options.startAfter;
    afterIsPrefix = false;
  }
  const state: WalkState = { prefix, after, afterIsPrefix, skipPrefix: undefined };
  const objects: ListedObject[] = [];
  const prefixes: string[] = [];
  let last: Cursor | undefined;
  let more = false;
  for await (const entry of walker(state)) {
    throwIfAborted(options.signal);
    if (isExcluded(state, entry.key)) continue;
    if (objects.length + prefixes.length >= limit) {
      more = true;
      break;
    }
    if (delimiter !== undefined) {
      const at = entry.key.indexOf(delimiter, prefix.length);
      if (at >= 0) {
        const common = entry.key.slice(0, at + delimiter.length);
        prefixes.push(common);
        state.skipPrefix = common;
        last = { k: common, p: true };
        continue;
      }
    }
    const row = await entry.load();
    if (row === undefined) continue;
    objects.push(row);
    last = { k: row.key, p: false };
  }
  return more && last ? { objects, prefixes, cursor: encodeCursor(last) } : { objects, prefixes };
}
