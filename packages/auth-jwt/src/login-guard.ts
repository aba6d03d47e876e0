/** What a login attempt is counted against: the client's address and the user name it tried. */
export interface LoginSubject {
  readonly address: string;
  readonly user: string;
}

/** A lock in force: which count tripped it and until when (epoch ms). */
export interface Lockout {
  readonly by: "address" | "user";
  readonly until: number;
}

/** One admitted attempt. Settle it once, or `release` it (in a `finally`) when the check itself failed. */
export interface LoginAttempt {
  /** A right password: the attempt is released. Failures already counted stay counted. */
  succeed(): void;
  /** A wrong password: counted; returns the lockout this failure started, if it started one. */
  fail(): Lockout | undefined;
  /** Lets the attempt go uncounted, unless it was settled already. */
  release(): void;
}

export type Admission = { readonly attempt: LoginAttempt } | { readonly lockout: Lockout };

export interface LoginGuardOptions {
  /** Failures (counted per address and per user name) that start a lockout. */
  readonly maxFailures: number;
  /**
   * Failures per address, when it differs (default `maxFailures`); 0 counts no addresses (behind a
   * reverse proxy every client has the proxy's address).
   */
  readonly addressMaxFailures?: number;
  /** The count drains at `maxFailures` per `windowMs`, so old failures fade rather than reset. */
  readonly windowMs: number;
  readonly lockoutMs: number;
  /** Tracked counts beyond which the idle ones are forgotten (default 100,000). */
  readonly maxTracked?: number;
  readonly now?: () => number;
}

interface Count {
  readonly max: number;
  readonly step: number;
  /** Settled failures not drained yet; the next drains `step` ms after `at`. */
  score: number;
  at: number;
  inFlight: number;
  lockedUntil: number;
  waiters: Array<() => void>;
}

/**
 * Brute-force limits for password logins, kept in this process's memory. Every failure counts
 * against the client's address and against the user name, whether or not the user exists; a count
 * drains at `maxFailures` per `windowMs` and a success does not reset it, so neither a shared (NAT)
 * address nor one known account buys further guesses. Reaching `maxFailures` locks that address or
 * user name for `lockoutMs`. Attempts whose check is still running count as possible failures: once
 * failures plus attempts in flight reach `maxFailures`, a new attempt waits for one to settle, so
 * parallel guesses cannot race past the limit while a slow password hash runs.
 *
 * @example
 * const admission = await guard.begin({ address, user });
 * if ("lockout" in admission) return refuse(admission.lockout.until);
 * try {
 *   if (await passwordMatches()) admission.attempt.succeed();
 *   else log(admission.attempt.fail());
 * } finally {
 *   admission.attempt.release();
 * }
 */
export function createLoginGuard(options: LoginGuardOptions) {
  const now = options.now ?? Date.now;
  const maxTracked = options.maxTracked ?? 100_000;
  const addressMax = options.addressMaxFailures ?? options.maxFailures;
  const counts = new Map<string, Count>();

  const keysOf = (who: LoginSubject) =>
    addressMax > 0 ? [`address\0${who.address}`, `user\0${who.user}`] : [`user\0${who.user}`];
  const byOf = (key: string): Lockout["by"] => (key.startsWith("address\0") ? "address" : "user");
  const maxOf = (key: string) => (byOf(key) === "address" ? addressMax : options.maxFailures);
  // One failure drains away every `step` ms, in whole failures so thresholds stay exact.
  const stepOf = (key: string) => options.windowMs / maxOf(key);

  function score(count: Count, t: number): number {
    const drained = Math.floor((t - count.at) / count.step);
    if (drained > 0 && count.score > 0) {
      count.score = Math.max(0, count.score - drained);
      count.at += drained * count.step;
    }
    return count.score;
  }

  function counted(key: string): Count {
    let count = counts.get(key);
    if (!count) {
      if (counts.size >= maxTracked) forgetIdle();
      count = {
        max: maxOf(key),
        step: stepOf(key),
        score: 0,
        at: now(),
        inFlight: 0,
        lockedUntil: 0,
        waiters: [],
      };
      counts.set(key, count);
    }
    return count;
  }

  function idle(count: Count, t: number): boolean {
    return (
      count.inFlight === 0 && count.waiters.length === 0 && count.lockedUntil <= t && score(count, t) === 0
    );
  }

  function forgetIdle() {
    const t = now();
    for (const [key, count] of counts) if (idle(count, t)) counts.delete(key);
  }

  function settle(keys: readonly string[], failed: boolean): Lockout | undefined {
    const t = now();
    let lockout: Lockout | undefined;
    for (const key of keys) {
      const count = counts.get(key);
      if (!count) continue;
      count.inFlight--;
      if (failed) {
        if (score(count, t) === 0) count.at = t;
        count.score++;
        if (count.score >= count.max) {
          // Failures that settle while a lock is already in force do not lengthen it.
          if (count.lockedUntil <= t) {
            count.lockedUntil = t + options.lockoutMs;
            lockout ??= { by: byOf(key), until: count.lockedUntil };
          }
          count.score = 0;
        }
      }
      for (const wake of count.waiters.splice(0)) wake();
      if (idle(count, t)) counts.delete(key);
    }
    return lockout;
  }

  function admit(keys: readonly string[]): LoginAttempt {
    for (const key of keys) counted(key).inFlight++;
    let settled = false;
    const once = (failed: boolean) => {
      if (settled) return undefined;
      settled = true;
      return settle(keys, failed);
    };
    return {
      succeed: () => void once(false),
      fail: () => once(true),
      release: () => void once(false),
    };
  }

  return {
    /** Admits an attempt, or names the lockout in force; waits while earlier attempts could still lock. */
    async begin(who: LoginSubject): Promise<Admission> {
      const keys = keysOf(who);
      for (;;) {
        const t = now();
        for (const key of keys) {
          const until = counts.get(key)?.lockedUntil ?? 0;
          if (until > t) return { lockout: { by: byOf(key), until } };
        }
        const full = keys
          .map((key) => counts.get(key))
          .find((count) => count && count.inFlight > 0 && score(count, t) + count.inFlight >= count.max);
        if (!full) return { attempt: admit(keys) };
        await new Promise<void>((resolve) => full.waiters.push(resolve));
      }
    },
    /** Counts currently tracked (addresses and user names), for tests and metrics. */
    size: () => counts.size,
  };
}

export type LoginGuard = ReturnType<typeof createLoginGuard>;
