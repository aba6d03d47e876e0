import { describe, expect, it } from "vitest";
import { type Admission, createLoginGuard, type LoginSubject } from "./login-guard.ts";

const options = { maxFailures: 5, windowMs: 3_600_000, lockoutMs: 1_800_000 };

function clockedGuard(extra: { maxTracked?: number } = {}) {
  const clock = { t: 1_000_000 };
  const guard = createLoginGuard({ ...options, ...extra, now: () => clock.t });
  /** One attempt whose check ends with `right`. */
  const attempt = async (who: LoginSubject, right: boolean) => {
    const admission = await guard.begin(who);
    if ("lockout" in admission) return admission.lockout;
    if (right) {
      admission.attempt.succeed();
      return "ok";
    }
    return admission.attempt.fail() ?? "failed";
  };
  return { clock, guard, attempt };
}

describe("createLoginGuard", () => {
  it("locks after maxFailures even when 30 checks run at once (regression: the race let 30 guesses through)", async () => {
    const { guard } = clockedGuard();
    const who = { address: "10.0.0.1", user: "alice" };
    const admissions: Promise<Admission>[] = [];
    for (let i = 0; i < 30; i++) admissions.push(guard.begin(who));
    // The slow hash: nothing settles until every attempt has asked to begin.
    const settled = await Promise.race([Promise.all(admissions), Promise.resolve("waiting")]);
    expect(settled).toBe("waiting");
    const results = await Promise.all(
      admissions.map(async (pending) => {
        const admission = await pending;
        if ("lockout" in admission) return "locked";
        await Promise.resolve();
        admission.attempt.fail();
        return "failed";
      }),
    );
    expect(results.filter((r) => r === "failed")).toHaveLength(5);
    expect(results.filter((r) => r === "locked")).toHaveLength(25);
  });

  it("does not reset on a success (regression: 4 wrong + 1 right, repeated, gave unlimited guesses)", async () => {
    const { attempt } = clockedGuard();
    const who = { address: "10.0.0.1", user: "mallory" };
    for (let i = 0; i < 4; i++) expect(await attempt(who, false)).toBe("failed");
    expect(await attempt(who, true)).toBe("ok");
    expect(await attempt(who, false)).toMatchObject({ by: "address" });
    expect(await attempt(who, true)).toMatchObject({ by: "address" });
  });

  it("counts per user name across addresses, and per address across user names", async () => {
    const { attempt } = clockedGuard();
    for (let i = 0; i < 4; i++) await attempt({ address: `10.0.0.${i}`, user: "alice" }, false);
    expect(await attempt({ address: "10.0.0.9", user: "alice" }, false)).toEqual({
      by: "user",
      until: 1_000_000 + options.lockoutMs,
    });
    expect(await attempt({ address: "10.0.1.1", user: "alice" }, true)).toMatchObject({ by: "user" });
    expect(await attempt({ address: "10.0.1.1", user: "bob" }, true)).toBe("ok");
    for (let i = 0; i < 4; i++) await attempt({ address: "10.0.2.1", user: `u${i}` }, false);
    expect(await attempt({ address: "10.0.2.1", user: "u9" }, false)).toMatchObject({ by: "address" });
  });

  it("drains old failures at maxFailures per window and ends a lockout after lockoutMs", async () => {
    const { clock, attempt, guard } = clockedGuard();
    const who = { address: "10.0.0.1", user: "alice" };
    for (let i = 0; i < 4; i++) await attempt(who, false);
    clock.t += options.windowMs / options.maxFailures; // one failure drained
    expect(await attempt(who, false)).toBe("failed");
    expect(await attempt(who, false)).toMatchObject({ by: "address" });
    clock.t += options.lockoutMs - 1;
    expect(await attempt(who, true)).toMatchObject({ by: "address" });
    clock.t += 1;
    expect(await attempt(who, true)).toBe("ok");
    clock.t += options.windowMs;
    expect(guard.size()).toBe(0);
  });

  it("admits parallel right logins beyond maxFailures once earlier ones succeed", async () => {
    const { guard } = clockedGuard();
    const who = { address: "10.0.0.1", user: "alice" };
    const admissions = Array.from({ length: 12 }, () => guard.begin(who));
    const results = await Promise.all(
      admissions.map(async (pending) => {
        const admission = await pending;
        if ("lockout" in admission) return "locked";
        admission.attempt.succeed();
        return "ok";
      }),
    );
    expect(results).toEqual(Array(12).fill("ok"));
    expect(guard.size()).toBe(0);
  });

  it("releases an attempt let go without a verdict", async () => {
    const { guard } = clockedGuard();
    const who = { address: "10.0.0.1", user: "alice" };
    for (let i = 0; i < 5; i++) {
      const admission = await guard.begin(who);
      if ("attempt" in admission) admission.attempt.release();
    }
    const next = await guard.begin(who);
    expect("attempt" in next).toBe(true);
  });

  it("forgets idle counts once more than maxTracked are held", async () => {
    const { attempt, guard, clock } = clockedGuard({ maxTracked: 10 });
    for (let i = 0; i < 5; i++) await attempt({ address: `10.0.0.${i}`, user: `u${i}` }, false);
    expect(guard.size()).toBe(10);
    clock.t += options.windowMs;
    await attempt({ address: "10.0.1.1", user: "x" }, false);
    expect(guard.size()).toBe(2);
  });

  it("counts addresses against their own limit, or not at all with addressMaxFailures 0", async () => {
    const clock = { t: 0 };
    const behindProxy = createLoginGuard({ ...options, addressMaxFailures: 0, now: () => clock.t });
    for (let i = 0; i < 20; i++) {
      const admission = await behindProxy.begin({ address: "10.0.0.1", user: `u${i}` });
      if ("attempt" in admission) admission.attempt.fail();
    }
    expect("attempt" in (await behindProxy.begin({ address: "10.0.0.1", user: "alice" }))).toBe(true);
    const lenient = createLoginGuard({ ...options, addressMaxFailures: 8, now: () => clock.t });
    const results: unknown[] = [];
    for (let i = 0; i < 9; i++) {
      const admission = await lenient.begin({ address: "10.0.0.2", user: `u${i}` });
      results.push("lockout" in admission ? admission.lockout.by : admission.attempt.fail());
    }
    expect(results.slice(0, 7)).toEqual(Array(7).fill(undefined));
    expect(results[7]).toMatchObject({ by: "address" });
    expect(results[8]).toBe("address");
  });
});
