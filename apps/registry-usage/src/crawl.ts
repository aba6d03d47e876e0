import { isWharfError, WharfError } from "@wharf/errors";
import type { ManifestRecord } from "./manifest.ts";
import type { RegistryClient } from "./registry-client.ts";

export interface TagRecord {
  readonly name: string;
  readonly digest: string;
  readonly mediaType: string;
  /**
   * Unix seconds when the pass that first saw the tag on this digest started (the registry API
   * dates nothing); absent for tags carried over from a snapshot without it.
   */
  readonly changed?: number;
}

export interface RepoRecord {
  readonly name: string;
  /** `null` when the tags could not be read and no earlier data exists (sizes unknown). */
  readonly tags: readonly TagRecord[] | null;
  /** Why this pass could not read the repository. */
  readonly error?: string;
  /** The tags are from an earlier pass because this one could not read them. */
  readonly stale?: boolean;
}

/** One complete scan, as stored: everything needed to compute every size. */
export interface Snapshot {
  readonly version: 1;
  /** Unix time in seconds (float, as the original's `timestamp`) when the scan finished. */
  readonly timestamp: number;
  readonly repositories: readonly RepoRecord[];
  /** Every manifest a tag reaches (index children included), by digest. */
  readonly manifests: Readonly<Record<string, ManifestRecord>>;
  /** Sizes from blob HEADs, for schema-1 layers (schema 1 carries no sizes). */
  readonly blobSizes: Readonly<Record<string, number>>;
  /**
   * Unix seconds when the last pass that checked every tag started (absent in snapshots of
   * earlier versions: the next pass then checks every tag).
   */
  readonly reconciledAt?: number;
}

export interface CrawlOptions {
  readonly pageSize: number;
  /** The last good snapshot: manifests whose digest did not change are not read again. */
  readonly previous?: Snapshot;
  /**
   * With `previous`: only these repositories changed (registry notifications). Their tags are
   * listed and HEADed; every other repository is taken from `previous` without a request; the
   * catalog is read only when one of them is not in `previous` (a new repository).
   */
  readonly dirty?: ReadonlySet<string>;
  readonly now?: () => number;
}

/** Errors that say the registry as a whole is not usable: the pass fails and the last snapshot stays. */
const fatal = (error: unknown) =>
  !isWharfError(error) || error.code === "UNAVAILABLE" || error.code === "INTERNAL";

/**
 * Scans the registry: catalog → tags → manifests. With a previous snapshot, each tag costs one
 * manifest `HEAD`, and only digests not seen before are fetched (the incremental pass); without
 * one, each tag costs one `GET`. A repository that cannot be read keeps its earlier tags, marked
 * `stale`; a registry that fails (network, 5xx, catalog refused) fails the whole pass. With
 * `dirty` (registry notifications) only those repositories are read again.
 */
export async function crawl(client: RegistryClient, options: CrawlOptions): Promise<Snapshot> {
  const now = options.now ?? Date.now;
  const previous = options.previous;
  const known = new Map<string, ManifestRecord>(Object.entries(previous?.manifests ?? {}));
  const blobSizes = new Map<string, number>(Object.entries(previous?.blobSizes ?? {}));
  const loading = new Map<string, Promise<ManifestRecord | undefined>>();
  const previousRepos = new Map((previous?.repositories ?? []).map((r) => [r.name, r]));
  const incremental = previous !== undefined;

  async function complete(repo: string, record: ManifestRecord): Promise<void> {
    if (record.kind === "index") {
      await Promise.all(record.children.map((child) => manifest(repo, child.digest)));
    } else if (record.kind === "schema1") {
      await Promise.all(
        record.layers
          .filter((digest) => !blobSizes.has(digest))
          .map(async (digest) => blobSizes.set(digest, await client.blobSize(repo, digest))),
      );
    }
  }

  /** The manifest `digest` of `repo`, from the cache or fetched once even when asked for concurrently. */
  function manifest(repo: string, digest: string): Promise<ManifestRecord | undefined> {
    const cached = known.get(digest);
    if (cached) return complete(repo, cached).then(() => cached);
    let pending = loading.get(digest);
    if (!pending) {
      pending = (async () => {
        const fetched = await client.getManifest(repo, digest);
        if (!fetched) return undefined;
        await complete(repo, fetched.record);
        known.set(digest, fetched.record);
        return fetched.record;
      })();
      loading.set(digest, pending);
      pending.catch(() => loading.delete(digest));
    }
    return pending;
  }

  async function resolveTag(repo: string, tag: string): Promise<TagRecord | undefined> {
    if (incremental) {
      const head = await client.headManifest(repo, tag);
      if (!head) return undefined;
      const record = await manifest(repo, head.digest);
      return record ? { name: tag, digest: head.digest, mediaType: record.mediaType } : undefined;
    }
    const fetched = await client.getManifest(repo, tag);
    if (!fetched) return undefined;
    if (!known.has(fetched.digest)) {
      await complete(repo, fetched.record);
      known.set(fetched.digest, fetched.record);
    }
    return { name: tag, digest: fetched.digest, mediaType: fetched.record.mediaType };
  }

  async function scanRepo(name: string): Promise<RepoRecord> {
    try {
      const tags = await client.tags(name);
      const records = await Promise.all(tags.map((tag) => resolveTag(name, tag)));
      const before = new Map((previousRepos.get(name)?.tags ?? []).map((t) => [t.name, t]));
      return {
        name,
        tags: records
          .filter((r): r is TagRecord => r !== undefined)
          .map((r) => {
            const earlier = before.get(r.name);
            const changed = earlier?.digest === r.digest ? earlier.changed : started;
            return changed === undefined ? r : { ...r, changed };
          }),
      };
    } catch (error) {
      if (fatal(error)) throw error;
      const message = (error as WharfError).message;
      const earlier = previousRepos.get(name);
      return earlier?.tags
        ? { name, tags: earlier.tags, error: message, stale: true }
        : { name, tags: null, error: message };
    }
  }

  const started = now() / 1000;
  const dirty = previous ? options.dirty : undefined;
  let names: readonly string[];
  if (dirty && [...dirty].every((name) => previousRepos.has(name))) {
    names = previous!.repositories.map((r) => r.name);
  } else {
    names = await client.catalog(options.pageSize);
  }
  const repositories = await Promise.all(
    names.map((name) => {
      const earlier = previousRepos.get(name);
      return dirty && earlier && !dirty.has(name) ? earlier : scanRepo(name);
    }),
  );
  const reconciledAt = dirty ? previous?.reconciledAt : started;
  return prune(
    {
      version: 1,
      timestamp: now() / 1000,
      repositories,
      manifests: {},
      blobSizes: {},
      ...(reconciledAt !== undefined ? { reconciledAt } : {}),
    },
    known,
    blobSizes,
  );
}

/** Keeps only the manifests and blob sizes the snapshot's tags still reach. */
function prune(
  snapshot: Snapshot,
  known: ReadonlyMap<string, ManifestRecord>,
  blobSizes: ReadonlyMap<string, number>,
): Snapshot {
  const manifests: Record<string, ManifestRecord> = {};
  const sizes: Record<string, number> = {};
  const visit = (digest: string) => {
    const record = known.get(digest);
    if (!record || manifests[digest]) return;
    manifests[digest] = record;
    if (record.kind === "index") for (const child of record.children) visit(child.digest);
    if (record.kind === "schema1")
      for (const layer of record.layers) {
        const size = blobSizes.get(layer);
        if (size !== undefined) sizes[layer] = size;
      }
  };
  for (const repo of snapshot.repositories) for (const tag of repo.tags ?? []) visit(tag.digest);
  return { ...snapshot, manifests, blobSizes: sizes };
}

export function assertSnapshot(value: unknown): Snapshot {
  const v = value as Partial<Snapshot> | null;
  if (v?.version !== 1 || !Array.isArray(v.repositories) || typeof v.manifests !== "object") {
    throw new WharfError("INTERNAL", "stored snapshot has an unknown format");
  }
  return v as Snapshot;
}
