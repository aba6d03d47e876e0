import { isWharfError, WharfError } from "@wharf/errors";
import { readAll, type StorageDriver } from "@wharf/storage-driver";
import { assertSnapshot, type Snapshot } from "./crawl.ts";
import type { RequestCounts } from "./registry-client.ts";
import { computeUsage, type Usage } from "./usage.ts";

/** The scan status every replica serves (stored beside the snapshot). */
export interface ScanStatus {
  readonly state: "never" | "ok" | "failed";
  readonly running: boolean;
  /** Unix seconds. */
  readonly last_attempt?: number;
  readonly last_success?: number;
  readonly last_duration_ms?: number;
  readonly last_error?: string;
  readonly consecutive_failures: number;
  readonly next_attempt?: number;
  /** `full`: every manifest GET; `incremental`: a HEAD per tag; `events`: only dirty repositories. */
  readonly mode?: "full" | "incremental" | "events";
  /** Unix seconds when the last pass that checked every tag started. */
  readonly last_reconciliation?: number;
  /** Repositories an `events` pass read again. */
  readonly dirty_repositories?: number;
  /** Registry requests of the last pass, by kind. */
  readonly requests?: RequestCounts;
  readonly holder?: string;
}

export interface Loaded {
  readonly snapshot: Snapshot;
  readonly usage: Usage;
  readonly etag: string;
}

export interface SnapshotStoreOptions {
  readonly driver: StorageDriver;
  /** Key prefix, "" or ending with "/". */
  readonly prefix: string;
  /** How long a replica serves its cached copy before checking the store's etag again. */
  readonly reloadIntervalMs: number;
  readonly now?: () => number;
}

export type SnapshotStore = ReturnType<typeof createSnapshotStore>;

/**
 * The snapshot, status and scanner lease in the storage driver: every replica serves what the
 * store holds, a restarted one at once. Writes are conditional so a replica that lost its lease
 * cannot overwrite a newer snapshot.
 */
export function createSnapshotStore(options: SnapshotStoreOptions) {
  const { driver, prefix } = options;
  const now = options.now ?? Date.now;
  const keys = {
    snapshot: `${prefix}snapshot.json`,
    status: `${prefix}status.json`,
    lease: `${prefix}lease.json`,
  };
  let cached: (Loaded & { checkedAt: number }) | undefined;
  let reloading: Promise<Loaded | undefined> | undefined;
  let status: { value: ScanStatus; checkedAt: number } | undefined;

  async function readJson(key: string): Promise<{ value: unknown; etag: string } | undefined> {
    try {
      const { info, body } = await driver.get(key);
      return { value: JSON.parse((await readAll(body)).toString("utf8")), etag: info.etag };
    } catch (error) {
      if (isWharfError(error, "NOT_FOUND")) return undefined;
      throw error;
    }
  }

  async function reload(): Promise<Loaded | undefined> {
    const checkedAt = now();
    try {
      if (cached) {
        const info = await driver.head(keys.snapshot);
        if (info.etag === cached.etag) {
          cached = { ...cached, checkedAt };
          return cached;
        }
      }
      const read = await readJson(keys.snapshot);
      if (!read) return undefined;
      const snapshot = assertSnapshot(read.value);
      cached = { snapshot, usage: computeUsage(snapshot), etag: read.etag, checkedAt };
      return cached;
    } catch (error) {
      if (cached) return cached;
      if (isWharfError(error, "NOT_FOUND")) return undefined;
      throw new WharfError("UNAVAILABLE", "the snapshot store cannot be read", { cause: error });
    }
  }

  return {
    keys,
    /** The newest stored snapshot and its sizes, or `undefined` before the first successful scan. */
    async current(): Promise<Loaded | undefined> {
      if (cached && now() - cached.checkedAt < options.reloadIntervalMs) return cached;
      reloading ??= reload().finally(() => {
        reloading = undefined;
      });
      return reloading;
    },

    /** Stores `snapshot` unless the stored one is no longer `basedOn` (another scanner won). */
    async save(snapshot: Snapshot, basedOn: string | undefined): Promise<void> {
      const body = JSON.stringify(snapshot);
      const info = await driver.put(keys.snapshot, body, {
        contentType: "application/json",
        ...(basedOn ? { ifMatch: basedOn } : { ifNoneMatch: "*" as const }),
      });
      cached = { snapshot, usage: computeUsage(snapshot), etag: info.etag, checkedAt: now() };
    },

    async readStatus(): Promise<ScanStatus> {
      const read = await readJson(keys.status).catch(() => undefined);
      return (
        (read?.value as ScanStatus | undefined) ?? { state: "never", running: false, consecutive_failures: 0 }
      );
    },

    async writeStatus(value: ScanStatus): Promise<void> {
      await driver.put(keys.status, JSON.stringify(value), { contentType: "application/json" });
      status = { value, checkedAt: now() };
    },

    /** The status as served: re-read at most once per reload interval. */
    async cachedStatus(): Promise<ScanStatus> {
      if (!status || now() - status.checkedAt >= options.reloadIntervalMs) {
        status = { value: await this.readStatus(), checkedAt: now() };
      }
      return status.value;
    },

    /** Takes or renews the scanner lease; false while another live replica holds it. */
    async acquireLease(holder: string, ttlMs: number): Promise<boolean> {
      const body = JSON.stringify({ holder, expires_at: now() + ttlMs });
      try {
        const read = await readJson(keys.lease);
        if (!read) {
          await driver.put(keys.lease, body, { ifNoneMatch: "*" });
          return true;
        }
        const lease = read.value as { holder?: string; expires_at?: number };
        if (lease.holder !== holder && (lease.expires_at ?? 0) > now()) return false;
        await driver.put(keys.lease, body, { ifMatch: read.etag });
        return true;
      } catch (error) {
        if (isWharfError(error, "PRECONDITION_FAILED", "ALREADY_EXISTS")) return false;
        throw error;
      }
    },

    async releaseLease(holder: string): Promise<void> {
      const read = await readJson(keys.lease).catch(() => undefined);
      if ((read?.value as { holder?: string } | undefined)?.holder !== holder) return;
      await driver
        .put(keys.lease, JSON.stringify({ holder, expires_at: 0 }), { ifMatch: read!.etag })
        .catch(() => undefined);
    },
  };
}
