import type { Snapshot } from "./crawl.ts";
import { blobsOf } from "./usage.ts";

export interface Freed {
  /** Bytes of the blobs only the selected tags reference: what deleting them and collecting frees. */
  readonly freed_size: number;
  readonly freed_blob_count: number;
  /** Distinct blobs the selection references, each once. */
  readonly size: number;
  readonly blob_count: number;
}

/**
 * What deleting `tags` of `repository` (then garbage-collecting) would free: the blobs the
 * selection references that no other tag of any repository references. A blob shared only among
 * the selected tags counts as freed once.
 */
export function freedBy(snapshot: Snapshot, repository: string, tags: ReadonlySet<string>): Freed {
  const selected = new Map<string, number>();
  const elsewhere = new Set<string>();
  for (const repo of snapshot.repositories) {
    for (const tag of repo.tags ?? []) {
      const chosen = repo.name === repository && tags.has(tag.name);
      for (const [digest, size] of blobsOf(snapshot, tag.digest)) {
        if (chosen) selected.set(digest, size);
        else elsewhere.add(digest);
      }
    }
  }
  let size = 0;
  let freed = 0;
  let freedCount = 0;
  for (const [digest, blobSize] of selected) {
    size += blobSize;
    if (elsewhere.has(digest)) continue;
    freed += blobSize;
    freedCount++;
  }
  return { freed_size: freed, freed_blob_count: freedCount, size, blob_count: selected.size };
}
