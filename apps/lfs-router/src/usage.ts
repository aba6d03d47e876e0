import { listAllObjects, type StorageDriver } from "@wharf/storage-driver";
import type { Layout } from "./layout.ts";

/**
 * Bytes a repository's LFS objects take, summed from a listing of its prefix (objects of nested
 * repositories below it are not counted). The store is the only source of truth: no counter to drift.
 */
export function createUsage(driver: StorageDriver, layout: Layout): (repo: string) => Promise<number> {
  return async (repo) => {
    const prefix = layout.repoPrefix(repo);
    const own = /^[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}$/;
    let total = 0;
    for await (const object of listAllObjects(driver, { prefix }))
      if (own.test(object.key.slice(prefix.length))) total += object.size;
    return total;
  };
}
