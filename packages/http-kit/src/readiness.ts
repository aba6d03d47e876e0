export interface ReadinessOptions {
  /** How long a caller waits for the running check before the last finished one answers (default 2 s). */
  readonly answerWithinMs?: number;
  /** A check still unfinished after this long counts as failed, and the next caller starts another (default 15 s). */
  readonly hangAfterMs?: number;
}

/**
 * Readiness from a check of the store, as a balancer's health checks need it under load.
 *
 * One check runs at a time, and every caller meanwhile shares it. A caller waits for it up to
 * `answerWithinMs`; if the check has not finished by then, the last finished check answers. A store
 * that answers slowly under the traffic is still up: failing the health check for it takes every
 * replica out of the balancer at once, and slowness becomes an outage. That happened in the cluster
 * soak: listing a loaded Ceph bucket took over 5 s, HAProxy marked both lfs-router replicas down
 * again and again, and answered a fifth of the batch requests 503.
 *
 * A check that throws or returns false answers false at once (a refused or failing store). A check
 * unfinished after `hangAfterMs` counts as failed too (a store that accepts connections and never
 * answers), and the next caller starts a fresh one.
 *
 * @example
 * const ready = sharedReadiness(async () => (await driver.list({ limit: 1 }), true));
 * await ready(); // true, false, or the last answer while a slow check runs
 */
export function sharedReadiness(
  check: () => Promise<boolean> | boolean,
  options: ReadinessOptions = {},
): () => Promise<boolean> {
  const answerWithinMs = options.answerWithinMs ?? 2_000;
  const hangAfterMs = options.hangAfterMs ?? 15_000;
  /** The last finished check's answer; none yet counts as not ready. */
  let last = false;
  let running: { result: Promise<boolean>; since: number } | undefined;
  let generation = 0;

  const start = () => {
    const id = ++generation;
    const result = (async () => {
      try {
        return (await check()) === true;
      } catch {
        return false;
      }
    })().then((ok) => {
      // An abandoned (hung) check that finishes late changes nothing.
      if (id === generation) {
        last = ok;
        running = undefined;
      }
      return ok;
    });
    running = { result, since: Date.now() };
    return running;
  };

  return async () => {
    if (running && Date.now() - running.since >= hangAfterMs) {
      last = false;
      running = undefined;
    }
    const current = running ?? start();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), answerWithinMs);
    });
    const ok = await Promise.race([current.result, late]);
    clearTimeout(timer);
    if (ok !== undefined) return ok;
    return last && Date.now() - current.since < hangAfterMs;
  };
}
