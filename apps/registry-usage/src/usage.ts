import type { Snapshot } from "./crawl.ts";

export interface PlatformUsage {
  readonly platform: string;
  readonly digest: string;
  readonly size: number;
}

export interface TagUsage {
  readonly name: string;
  readonly digest: string;
  readonly media_type: string;
  readonly kind: "image" | "index" | "schema1";
  /** Config + layers (an index: the union of its platforms' blobs), each distinct blob once. */
  readonly size: number;
  /** The original's primary-tag attribution (README "Sizes"). */
  readonly disk_size: number;
  /** Bytes no other tag (of any repository) references: what deleting this tag frees. */
  readonly exclusive_size: number;
  /** `size - exclusive_size`. */
  readonly shared_size: number;
  readonly blob_count: number;
  readonly platforms?: readonly PlatformUsage[];
  /** Unix seconds of the pass that first saw the tag on this digest. */
  readonly changed?: number;
}

export interface RepoUsage {
  readonly name: string;
  /** Σ tag sizes (a blob is counted again for each tag, as in the original); null if unreadable. */
  readonly size: number | null;
  readonly disk_size: number | null;
  /** Distinct blobs over all tags of the repository (deduplicated size). */
  readonly unique_size: number | null;
  /** Blobs no other repository references: what deleting the repository frees. */
  readonly exclusive_size: number | null;
  /** `unique_size - exclusive_size`. */
  readonly shared_size: number | null;
  readonly tag_count: number | null;
  readonly tags: readonly TagUsage[] | null;
  readonly error?: string;
  readonly stale?: boolean;
}

export interface UsageTotals {
  readonly size: number;
  readonly disk_size: number;
  readonly unique_size: number;
  readonly exclusive_size: number;
  readonly shared_size: number;
  readonly repository_count: number;
  readonly tag_count: number;
}

export interface Usage {
  readonly timestamp: number;
  readonly repositories: readonly RepoUsage[];
  readonly byName: ReadonlyMap<string, RepoUsage>;
  readonly totals: UsageTotals;
}

type Blobs = Map<string, number>;

/** The distinct blobs a manifest reaches, with their sizes. */
export function blobsOf(
  snapshot: Snapshot,
  digest: string,
  into: Blobs = new Map(),
  seen = new Set<string>(),
): Blobs {
  if (seen.has(digest)) return into;
  seen.add(digest);
  const record = snapshot.manifests[digest];
  if (!record) return into;
  if (record.kind === "image") {
    if (record.config) into.set(record.config.digest, record.config.size);
    for (const layer of record.layers) into.set(layer.digest, layer.size);
  } else if (record.kind === "schema1") {
    for (const layer of record.layers) into.set(layer, snapshot.blobSizes[layer] ?? 0);
  } else {
    for (const child of record.children) blobsOf(snapshot, child.digest, into, seen);
  }
  return into;
}

const sum = (blobs: Iterable<number>) => {
  let total = 0;
  for (const size of blobs) total += size;
  return total;
};

/**
 * The original's `disk_size`: every blob belongs to exactly one tag registry-wide, the first that
 * references it (catalog order, then tag order), moved to any later tag with strictly fewer blobs.
 * Returns the bytes attributed to each entry key.
 */
export function attributePrimary(entries: readonly { key: string; blobs: ReadonlyMap<string, number> }[]) {
  const primary = new Map<string, { key: string; count: number; size: number }>();
  for (const { key, blobs } of entries) {
    for (const [digest, size] of blobs) {
      const holder = primary.get(digest);
      if (!holder || blobs.size < holder.count) primary.set(digest, { key, count: blobs.size, size });
    }
  }
  const attributed = new Map<string, number>();
  for (const { key, size } of primary.values()) attributed.set(key, (attributed.get(key) ?? 0) + size);
  return attributed;
}

/** Every size of every tag, repository and the registry, from one snapshot (README "Sizes"). */
export function computeUsage(snapshot: Snapshot): Usage {
  const entries: { key: string; repo: number; blobs: Blobs }[] = [];
  snapshot.repositories.forEach((repo, index) => {
    for (const tag of repo.tags ?? [])
      entries.push({ key: `${index}\0${tag.name}`, repo: index, blobs: blobsOf(snapshot, tag.digest) });
  });
  const disk = attributePrimary(entries);
  const refs = new Map<string, { size: number; tag: string | null; repo: number | null }>();
  for (const { key, repo, blobs } of entries) {
    for (const [digest, size] of blobs) {
      const ref = refs.get(digest);
      if (!ref) refs.set(digest, { size, tag: key, repo });
      else {
        if (ref.tag !== key) ref.tag = null;
        if (ref.repo !== repo) ref.repo = null;
      }
    }
  }
  const byKey = new Map(entries.map((e) => [e.key, e]));
  const repositories = snapshot.repositories.map((repo, index): RepoUsage => {
    const extra = { ...(repo.error ? { error: repo.error } : {}), ...(repo.stale ? { stale: true } : {}) };
    if (!repo.tags) {
      return {
        name: repo.name,
        size: null,
        disk_size: null,
        unique_size: null,
        exclusive_size: null,
        shared_size: null,
        tag_count: null,
        tags: null,
        ...extra,
      };
    }
    const unique: Blobs = new Map();
    const tags = repo.tags.map((tag): TagUsage => {
      const key = `${index}\0${tag.name}`;
      const blobs = byKey.get(key)?.blobs ?? new Map();
      for (const [digest, size] of blobs) unique.set(digest, size);
      const size = sum(blobs.values());
      let exclusive = 0;
      for (const [digest, blobSize] of blobs) if (refs.get(digest)?.tag === key) exclusive += blobSize;
      const record = snapshot.manifests[tag.digest];
      const platforms =
        record?.kind === "index"
          ? record.children.map((child) => ({
              platform: child.platform ?? "unknown",
              digest: child.digest,
              size: sum(blobsOf(snapshot, child.digest).values()),
            }))
          : undefined;
      return {
        name: tag.name,
        digest: tag.digest,
        media_type: tag.mediaType,
        kind: record?.kind ?? "image",
        size,
        disk_size: disk.get(key) ?? 0,
        exclusive_size: exclusive,
        shared_size: size - exclusive,
        blob_count: blobs.size,
        ...(platforms ? { platforms } : {}),
        ...(tag.changed !== undefined ? { changed: tag.changed } : {}),
      };
    });
    let exclusive = 0;
    for (const [digest, size] of unique) if (refs.get(digest)?.repo === index) exclusive += size;
    const uniqueSize = sum(unique.values());
    return {
      name: repo.name,
      size: sum(tags.map((t) => t.size)),
      disk_size: sum(tags.map((t) => t.disk_size)),
      unique_size: uniqueSize,
      exclusive_size: exclusive,
      shared_size: uniqueSize - exclusive,
      tag_count: tags.length,
      tags,
      ...extra,
    };
  });
  const uniqueSize = sum([...refs.values()].map((r) => r.size));
  const exclusiveSize = sum(repositories.map((r) => r.exclusive_size ?? 0));
  return {
    timestamp: snapshot.timestamp,
    repositories,
    byName: new Map(repositories.map((r) => [r.name, r])),
    totals: {
      size: sum(repositories.map((r) => r.size ?? 0)),
      disk_size: sum(repositories.map((r) => r.disk_size ?? 0)),
      unique_size: uniqueSize,
      exclusive_size: exclusiveSize,
      shared_size: uniqueSize - exclusiveSize,
      repository_count: repositories.length,
      tag_count: sum(repositories.map((r) => r.tag_count ?? 0)),
    },
  };
}
