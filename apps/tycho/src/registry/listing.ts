import type { ListPage, StorageDriver } from "@wharf/storage-driver";

/** Every page of a listing, following the driver's cursor. */
export async function* pages(
  storage: StorageDriver,
  options: { prefix?: string; delimiter?: string },
): AsyncGenerator<ListPage> {
  let cursor: string | undefined;
  do {
    const page = await storage.list({ ...options, ...(cursor ? { cursor } : {}) });
    yield page;
    cursor = page.cursor;
  } while (cursor);
}
