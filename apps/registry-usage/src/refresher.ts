import { isWharfError } from "@wharf/errors";
import type { Logger } from "@wharf/http-kit";
import { crawl } from "./crawl.ts";
import { emptyCounts, type RegistryClient, type RequestCounts } from "./registry-client.ts";
import type { ScanStatus, SnapshotStore } from "./snapshot-store.ts";

export interface RefresherOptions {
  readonly store: SnapshotStore;
  readonly client: RegistryClient;
  /** This replica's name in the lease. */
  readonly holder: string;
  readonly refreshIntervalSeconds: number;
  readonly leaseSeconds: number;
  readonly pageSize: number;
  /** First retry delay after a failed pass; doubles up to the refresh interval. */
  readonly retrySeconds?: number;
  readonly now?: () => number;
  readonly logger?: Logger;
}

export type TickResult = "standby" | "idle" | "scanned" | "failed";

const diff = (after: RequestCounts, before: RequestCounts): RequestCounts => {
  const result = emptyCounts();
  for (const key of Object.keys(result) as (keyof RequestCounts)[]) result[key] = after[key] - before[key];
  return result;
};

/**
 * The periodic scan. Every replica ticks; the one holding the lease in the store scans when the
 * stored status says a pass is due (interval after a success, a doubling backoff after a failure).
 * A failed pass leaves the last good snapshot in place and records the error in the status.
 */
export function createRefresher(options: RefresherOptions) {
  const now = options.now ?? Date.now;
  const { store, client, holder } = options;
  const leaseMs = options.leaseSeconds * 1000;
  const intervalMs = options.refreshIntervalSeconds * 1000;
  const retryMs = (options.retrySeconds ?? 30) * 1000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<TickResult> | undefined;
  let stopped = false;

  function dueAt(status: ScanStatus): number {
    if (status.last_attempt === undefined) return 0;
    const last = status.last_attempt * 1000 + (status.last_duration_ms ?? 0);
    if (status.state !== "failed") return last + intervalMs;
    return last + Math.min(retryMs * 2 ** Math.max(status.consecutive_failures - 1, 0), intervalMs);
  }

  async function scan(status: ScanStatus): Promise<TickResult> {
    const started = now();
    const before = { ...client.counts };
    const base = { holder, last_attempt: started / 1000 };
    await store.writeStatus({ ...status, ...base, running: true });
    const renew = setInterval(
      () => void store.acquireLease(holder, leaseMs).catch(() => undefined),
      leaseMs / 3,
    );
    try {
      const previous = await store.current();
      const snapshot = await crawl(client, {
        pageSize: options.pageSize,
        now,
        ...(previous ? { previous: previous.snapshot } : {}),
      });
      await store.save(snapshot, previous?.etag);
      const duration = now() - started;
      const requests = diff(client.counts, before);
      await store.writeStatus({
        ...base,
        state: "ok",
        running: false,
        last_success: snapshot.timestamp,
        last_duration_ms: duration,
        consecutive_failures: 0,
        mode: previous ? "incremental" : "full",
        requests,
        next_attempt: (started + duration + intervalMs) / 1000,
      });
      options.logger?.info(
        { ms: duration, requests, repositories: snapshot.repositories.length },
        "scan finished",
      );
      return "scanned";
    } catch (error) {
      const failures = status.consecutive_failures + 1;
      const failed: ScanStatus = {
        ...status,
        ...base,
        state: "failed",
        running: false,
        last_duration_ms: now() - started,
        last_error: isWharfError(error) ? error.message : "internal error",
        consecutive_failures: failures,
        requests: diff(client.counts, before),
      };
      await store.writeStatus({ ...failed, next_attempt: dueAt(failed) / 1000 }).catch(() => undefined);
      options.logger?.warn({ err: error, failures }, "scan failed, serving the last good snapshot");
      return "failed";
    } finally {
      clearInterval(renew);
    }
  }

  async function tick(): Promise<TickResult> {
    if (!(await store.acquireLease(holder, leaseMs))) return "standby";
    const status = await store.readStatus();
    if (now() < dueAt(status)) return "idle";
    return scan(status);
  }

  return {
    /** One step: take the lease, scan if due. Concurrent calls share the running step. */
    tick(): Promise<TickResult> {
      running ??= tick().finally(() => {
        running = undefined;
      });
      return running;
    },
    /** Ticks every few seconds until `stop`. */
    start(everyMs = Math.min(15_000, leaseMs / 3)): void {
      const loop = async () => {
        try {
          await this.tick();
        } catch (error) {
          options.logger?.warn({ err: error }, "refresh step failed");
        }
        if (!stopped) timer = setTimeout(loop, everyMs);
      };
      void loop();
    },
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
      await store.releaseLease(holder);
    },
  };
}
