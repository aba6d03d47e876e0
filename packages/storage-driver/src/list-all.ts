import { compareKeys } from "./compare-keys.ts";
import type { ListedObject, ListOptions, StorageDriver } from "./types.ts";

export type ListAllEntry =
  | { readonly kind: "object"; readonly object: ListedObject }
  | { readonly kind: "prefix"; readonly prefix: string };

/**
 * Streams every entry of a listing, fetching one page at a time (never more than one page in memory).
 *
 * @example
 * for await (const entry of listAll(driver, { prefix: "logs/" })) {
 *   if (entry.kind === "object") console.log(entry.object.key, entry.object.size);
 * }
 */
export async function* listAll(
  driver: Pick<StorageDriver, "list">,
  options: Omit<ListOptions, "cursor"> = {},
): AsyncGenerator<ListAllEntry, void, undefined> {
  let cursor: string | undefined;
  do {
    const page = await driver.list(cursor === undefined ? options : { ...options, cursor });
    // Objects and prefixes are each sorted; merge them so the stream is in key order.
    let o = 0;
    let p = 0;
    while (o < page.objects.length || p < page.prefixes.length) {
      const object = page.objects[o];
      const prefix = page.prefixes[p];
      if (object !== undefined && (prefix === undefined || compareKeys(object.key, prefix) < 0)) {
        yield { kind: "object", object };
        o++;
      } else if (prefix !== undefined) {
        yield { kind: "prefix", prefix };
        p++;
      }
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
}

/** Every object under a prefix (no delimiter), streamed. */
export async function* listAllObjects(
  driver: Pick<StorageDriver, "list">,
  options: Omit<ListOptions, "cursor" | "delimiter"> = {},
): AsyncGenerator<ListedObject, void, undefined> {
  for await (const entry of listAll(driver, options)) if (entry.kind === "object") yield entry.object;
}
