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

const cache = new WeakMap<Snapshot, Map<string, number>>();

/** How many tags (of every repository) reference each blob; computed once per snapshot. */
function referencesOf(snapshot: Snapshot): Map<string, number> {
  let refs = cache.get(snapshot);
  if (refs) return refs;
  refs = new Map();
  for (const repo of snapshot.repositories)
    for (const tag of repo.tags ?? [])
      for (const digest of blobsOf(snapshot, tag.digest).keys())
        refs.set(digest, (refs.get(digest) ?? 0) + 1);
  cache.set(snapshot, refs);
  return refs;
}

/**
 * What deleting `tags` of `repository` (then garbage-collecting) would free: the blobs the
 * selection references that no other tag of any repository references. A blob shared only among
 * the selected tags counts as freed once.
 */
export function freedBy(snapshot: Snapshot, repository: string, tags: ReadonlySet<string>): Freed {
  const refs = referencesOf(snapshot);
  const selected = new Map<string, { size: number; tags: number }>();
  const repo = snapshot.repositories.find((r) => r.name === repository);
  for (const tag of repo?.tags ?? []) {
    if (!tags.has(tag.name)) continue;
    for (const [digest, size] of blobsOf(snapshot, tag.digest)) {
      const seen = selected.get(digest);
      selected.set(digest, { size, tags: (seen?.tags ?? 0) + 1 });
    }
  }
  let size = 0;
  let freed = 0;
  let freedCount = 0;
  for (const [digest, blob] of selected) {
    size += blob.size;
    if ((refs.get(digest) ?? 0) > blob.tags) continue;
    freed += blob.size;
    freedCount++;
  }
  return { freed_size: freed, freed_blob_count: freedCount, size, blob_count: selected.size };
}
