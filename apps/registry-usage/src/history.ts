import { isWharfError } from "@wharf/errors";
import { readAll, type StorageDriver } from "@wharf/storage-driver";
import type { UsageTotals } from "./usage.ts";

/** One point of the history: the registry totals after a scan (Unix seconds). */
export interface HistoryPoint extends UsageTotals {
  readonly timestamp: number;
}

export interface HistoryOptions {
  readonly driver: StorageDriver;
  /** Key prefix, "" or ending with "/". */
  readonly prefix: string;
  /** Points older than this are dropped (default 365 days). */
  readonly retentionDays?: number;
  readonly now?: () => number;
}

export type History = ReturnType<typeof createHistory>;

const day = (seconds: number) => Math.floor(seconds / 86_400);
const fields = [
  "size",
  "disk_size",
  "unique_size",
  "exclusive_size",
  "shared_size",
  "repository_count",
  "tag_count",
] as const;

/**
 * Totals over time in the store (`history.json`), shared by every replica and kept across
 * restarts. A scan that changes the totals records a point; the last point of each UTC day is
 * kept (a later one the same day replaces it), for `retentionDays`. Writes are conditional: two
 * replicas never lose each other's points.
 */
export function createHistory(options: HistoryOptions) {
  const key = `${options.prefix}history.json`;
  const now = options.now ?? Date.now;
  const retention = (options.retentionDays ?? 365) * 86_400;

  async function read(): Promise<{ points: HistoryPoint[]; etag?: string }> {
    try {
      const { info, body } = await options.driver.get(key);
      const parsed = JSON.parse((await readAll(body)).toString("utf8")) as { points?: HistoryPoint[] };
      return { points: Array.isArray(parsed.points) ? parsed.points : [], etag: info.etag };
    } catch (error) {
      if (isWharfError(error, "NOT_FOUND")) return { points: [] };
      throw error;
    }
  }

  return {
    key,
    async points(): Promise<readonly HistoryPoint[]> {
      return (await read()).points;
    },

    /** Records `totals` at `timestamp` unless they equal the last point's; true when written. */
    async record(timestamp: number, totals: UsageTotals): Promise<boolean> {
      for (let attempt = 0; attempt < 5; attempt++) {
        const { points, etag } = await read();
        const last = points.at(-1);
        if (last && fields.every((f) => last[f] === totals[f])) return false;
        const point: HistoryPoint = {
          timestamp,
          ...Object.fromEntries(fields.map((f) => [f, totals[f]])),
        } as HistoryPoint;
        const kept = points.filter((p) => p.timestamp >= now() / 1000 - retention);
        if (kept.length > 0 && day(kept.at(-1)!.timestamp) === day(timestamp)) kept.pop();
        kept.push(point);
        try {
          await options.driver.put(key, JSON.stringify({ points: kept }), {
            contentType: "application/json",
            ...(etag ? { ifMatch: etag } : { ifNoneMatch: "*" as const }),
          });
          return true;
        } catch (error) {
          if (!isWharfError(error, "PRECONDITION_FAILED", "ALREADY_EXISTS")) throw error;
        }
      }
      return false;
    },
  };
}
