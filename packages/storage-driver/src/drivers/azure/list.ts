import type { BlobItem, ContainerClient } from "@azure/storage-blob";
import { WharfError } from "@wharf/errors";
import { throwIfAborted } from "../../body.ts";
import { compareKeys } from "../../compare-keys.ts";
import { RESERVED_SEGMENT } from "../../keys.ts";
import { pageLimit } from "../../list-page.ts";
import type { ListedObject, ListOptions, ListPage } from "../../types.ts";
import { translateAzureError } from "./errors.ts";
import { unquote } from "./write.ts";

const reserved = `${RESERVED_SEGMENT}/`;

function encodeCursor(marker: string): string {
  return Buffer.from(JSON.stringify({ m: marker }), "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { m?: unknown };
    if (typeof value.m === "string") return value.m;
  } catch {}
  throw new WharfError("INVALID_ARGUMENT", "malformed list cursor");
}

export const listedObject = (key: string, item: BlobItem): ListedObject => ({
  key,
  size: item.properties.contentLength ?? 0,
  etag: unquote(item.properties.etag),
  lastModified: item.properties.lastModified,
});

/**
 * One page of a listing, from Azure's own pages: the cursor carries Azure's continuation marker.
 * Entries are sorted into UTF-8 byte order within the page (Azure sorts by its own collation);
 * `startAfter` and the driver's reserved folder are filtered out, fetching on while that empties a
 * page, so a `startAfter` deep into a large listing reads the pages before it.
 */
export async function listBlobsPage(
  container: ContainerClient,
  root: string,
  options: ListOptions,
): Promise<ListPage> {
  const limit = pageLimit(options.limit);
  const prefix = options.prefix ?? "";
  const delimiter = options.delimiter || undefined;
  let marker = options.cursor ? decodeCursor(options.cursor) : undefined;
  const keep = (key: string) =>
    !key.startsWith(reserved) &&
    (options.startAfter === undefined || compareKeys(key, options.startAfter) > 0);
  const objects: ListedObject[] = [];
  const prefixes: string[] = [];
  do {
    throwIfAborted(options.signal);
    const listing =
      delimiter === undefined
        ? container.listBlobsFlat({ prefix: root + prefix })
        : container.listBlobsByHierarchy(delimiter, { prefix: root + prefix });
    let page: Awaited<ReturnType<ReturnType<typeof listing.byPage>["next"]>>["value"];
    try {
      page = (
        await listing.byPage({ maxPageSize: limit, ...(marker ? { continuationToken: marker } : {}) }).next()
      ).value;
    } catch (error) {
      throw translateAzureError(error);
    }
    for (const item of page?.segment.blobItems ?? []) {
      const key = item.name.slice(root.length);
      if (keep(key)) objects.push(listedObject(key, item));
    }
    const rolledUp = (page?.segment as { blobPrefixes?: Array<{ name: string }> } | undefined)?.blobPrefixes;
    for (const common of rolledUp ?? []) {
      const key = common.name.slice(root.length);
      // A common prefix that startAfter falls inside still has keys after it.
      const holdsAfter = options.startAfter?.startsWith(key) === true && options.startAfter !== key;
      if (key !== reserved && (keep(key) || holdsAfter)) prefixes.push(key);
    }
    marker = page?.continuationToken || undefined;
  } while (marker !== undefined && objects.length + prefixes.length === 0);
  objects.sort((a, b) => compareKeys(a.key, b.key));
  prefixes.sort(compareKeys);
  return marker === undefined ? { objects, prefixes } : { objects, prefixes, cursor: encodeCursor(marker) };
}
