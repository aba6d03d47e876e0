import { isWharfError } from "@wharf/errors";
import { describeError, type Logger } from "@wharf/http-kit";
import { crawl } from "./crawl.ts";
import type { DirtyMarks, ReadMarks } from "./dirty-marks.ts";
import type { History } from "./history.ts";
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
  /** Registry notifications: passes rescan only the repositories marked dirty (README "Notifications"). */
  readonly notifications?: {
    readonly marks: DirtyMarks;
    /** Least time between the end of a pass and an event-driven one. */
    readonly intervalSeconds: number;
    /** Longest time between two passes that check every tag. */
    readonly reconcileIntervalSeconds: number;
  };
  /** Totals over time: a pass that changes them records a point. */
  readonly history?: History;
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
 * What a failed scan logs: an expected outage (the registry or the store unreachable, a WharfError)
 * as one line with its cause's code and no stack, every retry; anything else, a bug, with its stack.
 */
function failure(error: unknown): Record<string, unknown> {
  return isWharfError(error) && error.code !== "INTERNAL" ? { reason: describeError(error) } : { err: error };
}

/**
 * The periodic scan. Every replica ticks; the one holding the lease in the store scans when the
 * stored status says a pass is due (interval after a success, a doubling backoff after a failure).
 * A failed pass leaves the last good snapshot in place and records the error in the status. With
 * notifications, a pass also runs `intervalSeconds` after the last one when dirty marks wait, and
 * rescans only the marked repositories, unless every tag is due for a check (README "Notifications").
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

  const lastEnd = (status: ScanStatus) => (status.last_attempt ?? 0) * 1000 + (status.last_duration_ms ?? 0);

  /** Whether the snapshot may be brought up to date from events alone. */
  async function eventsUsable(reconciledAt: number | undefined): Promise<boolean> {
    const n = options.notifications;
    if (!n || reconciledAt === undefined) return false;
    if (now() / 1000 - reconciledAt >= n.reconcileIntervalSeconds) return false;
    const first = await n.marks.firstEventAt();
    // Changes before the first event may not have been notified: a pass that checked every tag
    // must have started after it.
    return first !== undefined && reconciledAt >= first;
  }

  async function recordHistory(timestamp: number): Promise<void> {
    const totals = (await store.current())?.usage.totals;
    if (!options.history || !totals) return;
    await options.history.record(timestamp, totals).catch((error: unknown) => {
      options.logger?.warn({ err: error }, "cannot record the totals in the history");
    });
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
      // Read the marks before the registry: whatever they name is then seen by this pass; marks
      // written later stay for the next one.
      const marks: ReadMarks | undefined = await options.notifications?.marks.read();
      const mode = !previous
        ? "full"
        : (await eventsUsable(previous.snapshot.reconciledAt))
          ? "events"
          : "incremental";
      const snapshot = await crawl(client, {
        pageSize: options.pageSize,
        now,
        ...(previous ? { previous: previous.snapshot } : {}),
        ...(mode === "events" && marks ? { dirty: marks.repositories } : {}),
      });
      await store.save(snapshot, previous?.etag);
      await recordHistory(snapshot.timestamp);
      if (marks && marks.keys.length > 0) {
        await options.notifications!.marks.clear(marks.keys).catch((error: unknown) => {
          options.logger?.warn(
            { err: error },
            "cannot delete consumed notification marks (they are re-read)",
          );
        });
      }
      const duration = now() - started;
      const requests = diff(client.counts, before);
      await store.writeStatus({
        ...base,
        state: "ok",
        running: false,
        last_success: snapshot.timestamp,
        last_duration_ms: duration,
        consecutive_failures: 0,
        mode,
        requests,
        ...(snapshot.reconciledAt !== undefined ? { last_reconciliation: snapshot.reconciledAt } : {}),
        ...(mode === "events" ? { dirty_repositories: marks?.repositories.size ?? 0 } : {}),
        next_attempt: (started + duration + intervalMs) / 1000,
      });
      options.logger?.info(
        { ms: duration, mode, requests, repositories: snapshot.repositories.length },
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
      options.logger?.warn(
        { ...failure(error), failures, next_attempt: new Date(dueAt(failed)).toISOString() },
        "scan failed, serving the last good snapshot",
      );
      return "failed";
    } finally {
      clearInterval(renew);
    }
  }

  async function tick(): Promise<TickResult> {
    if (!(await store.acquireLease(holder, leaseMs))) return "standby";
    const status = await store.readStatus();
    if (now() >= dueAt(status)) return scan(status);
    const n = options.notifications;
    if (
      n &&
      status.state === "ok" &&
      now() >= lastEnd(status) + n.intervalSeconds * 1000 &&
      (await n.marks.pending())
    ) {
      return scan(status);
    }
    return "idle";
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
          options.logger?.warn(failure(error), "refresh step failed");
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
