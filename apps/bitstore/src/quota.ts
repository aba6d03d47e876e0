import { isWharfError, WharfError } from "@wharf/errors";
import type { StorageDriver } from "@wharf/storage-driver";
import { updateJson } from "./json-document.ts";

/** One key's share of a user's quota: reserved until `expiresAt`, then committed or dropped. */
interface LedgerEntry {
  readonly bytes: number;
  readonly private: boolean;
  /** ISO time the reservation lapses; absent once the object was seen in the store. */
  readonly expiresAt?: string;
}

interface Ledger {
  readonly version: 1;
  readonly entries: Record<string, LedgerEntry>;
}

export interface Reservation {
  readonly key: string;
  readonly bytes: number;
  readonly private: boolean;
}

export interface QuotaLimits {
  /** Bytes allowed for public objects, `undefined` for no limit. */
  readonly public?: number;
  readonly private?: number;
}

/**
 * Per-user quota, kept as a ledger object in the store and changed only by conditional writes, so
 * parallel `/authorize` calls (even on several bitstore processes) cannot overshoot: each sees the
 * reservations of the others. A reservation lives until its upload form expires; after that it
 * counts only if the object was really stored (with its real size).
 */
export function createQuota(options: { driver: StorageDriver; statePrefix: string; now?: () => Date }) {
  const { driver } = options;
  const now = options.now ?? (() => new Date());
  const ledgerKey = (owner: string) => `${options.statePrefix}quota/${owner}.json`;

  async function settle(
    entries: Record<string, LedgerEntry>,
    at: Date,
  ): Promise<Record<string, LedgerEntry>> {
    const settled: Record<string, LedgerEntry> = {};
    for (const [key, entry] of Object.entries(entries)) {
      if (entry.expiresAt === undefined || new Date(entry.expiresAt) > at) {
        settled[key] = entry;
        continue;
      }
      try {
        const info = await driver.head(key);
        settled[key] = { bytes: info.size, private: entry.private };
      } catch (error) {
        if (!isWharfError(error, "NOT_FOUND")) throw error;
      }
    }
    return settled;
  }

  return {
    /**
     * Reserves `bytes` for each key (replacing an earlier reservation of the same key) or throws
     * `PERMISSION_DENIED` (`details.reason` `quota_exceeded`, 403 as the upstream) and reserves nothing.
     */
    async reserve(owner: string, items: readonly Reservation[], limits: QuotaLimits, ttlSeconds: number) {
      await updateJson<Ledger>(driver, ledgerKey(owner), async (current) => {
        const at = now();
        const entries = await settle(current?.entries ?? {}, at);
        const expiresAt = new Date(at.getTime() + ttlSeconds * 1000).toISOString();
        for (const item of items) entries[item.key] = { bytes: item.bytes, private: item.private, expiresAt };
        for (const isPrivate of [false, true]) {
          const limit = isPrivate ? limits.private : limits.public;
          if (limit === undefined || !items.some((i) => i.private === isPrivate)) continue;
          const used = Object.values(entries)
            .filter((e) => e.private === isPrivate)
            .reduce((sum, e) => sum + e.bytes, 0);
          if (used > limit) {
            const mb = Math.floor(limit / 1_000_000);
            throw new WharfError(
              "PERMISSION_DENIED",
              isPrivate
                ? `Max private storage for user exceeded plan limit (${mb}MB)`
                : `Max storage for user exceeded plan limit (${mb}MB)`,
              { details: { reason: "quota_exceeded", limit, used } },
            );
          }
        }
        return { value: { version: 1, entries }, result: undefined };
      });
    },

    /** Bytes counted against the user now, per class. */
    async usage(owner: string): Promise<{ public: number; private: number }> {
      return updateJson<Ledger, { public: number; private: number }>(
        driver,
        ledgerKey(owner),
        async (current) => {
          const entries = await settle(current?.entries ?? {}, now());
          const sum = (p: boolean) =>
            Object.values(entries)
              .filter((e) => e.private === p)
              .reduce((total, e) => total + e.bytes, 0);
          const result = { public: sum(false), private: sum(true) };
          return current ? { value: { version: 1, entries }, result } : { result };
        },
      );
    },

    /** Drops a reservation (an aborted upload). */
    async release(owner: string, key: string) {
      await updateJson<Ledger>(driver, ledgerKey(owner), (current) => {
        if (!current?.entries[key]) return { result: undefined };
        const { [key]: _dropped, ...entries } = current.entries;
        return { value: { version: 1, entries }, result: undefined };
      });
    },
  };
}

export type Quota = ReturnType<typeof createQuota>;
