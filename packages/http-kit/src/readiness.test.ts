import { describe, expect, it } from "vitest";
import { createHttpApp } from "./app.ts";
import { silentLogger } from "./logger.ts";
import { createMetrics } from "./metrics.ts";
import { sharedReadiness } from "./readiness.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A check whose every call waits for the test to settle it. */
function controlledCheck() {
  const calls: Array<{ settle: (ok: boolean) => void; fail: (e: Error) => void }> = [];
  const check = () =>
    new Promise<boolean>((resolve, reject) => {
      calls.push({ settle: resolve, fail: reject });
    });
  return { check, calls };
}

describe("sharedReadiness", () => {
  it("answers a quick check's result, and false when the check throws", async () => {
    expect(await sharedReadiness(() => true)()).toBe(true);
    expect(await sharedReadiness(() => false)()).toBe(false);
    expect(
      await sharedReadiness(async () => {
        throw new Error("connection refused");
      })(),
    ).toBe(false);
  });

  it("while a check is slow, answers from the last finished one within answerWithinMs, and shares the running check", async () => {
    const { check, calls } = controlledCheck();
    const ready = sharedReadiness(check, { answerWithinMs: 30, hangAfterMs: 5_000 });
    const first = ready();
    calls[0]!.settle(true);
    expect(await first).toBe(true);
    // The store slows down: the next check does not finish, yet callers get an answer at once.
    const started = Date.now();
    const answers = await Promise.all([ready(), ready(), ready()]);
    expect(answers).toEqual([true, true, true]);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(calls).toHaveLength(2);
    // The slow check finishes with a failure: from then on the answer is false.
    calls[1]!.fail(new Error("503 Slow Down"));
    await sleep(0);
    expect(await ready()).toBe(false);
  });

  it("is not ready when the first check is slow: nothing has shown the store answers yet", async () => {
    const { check } = controlledCheck();
    expect(await sharedReadiness(check, { answerWithinMs: 20, hangAfterMs: 5_000 })()).toBe(false);
  });

  it("counts a check unfinished after hangAfterMs as failed, and starts a fresh one for the next caller", async () => {
    const { check, calls } = controlledCheck();
    const ready = sharedReadiness(check, { answerWithinMs: 20, hangAfterMs: 150 });
    const first = ready();
    calls[0]!.settle(true);
    expect(await first).toBe(true);
    expect(await ready()).toBe(true); // a slow check, answered from the last one
    await sleep(200);
    // The second check hung (a store that takes connections and never answers).
    expect(await ready()).toBe(false);
    expect(calls).toHaveLength(3);
    // The hung check's late success changes nothing; the fresh check's does.
    calls[1]!.settle(true);
    await sleep(0);
    expect(await ready()).toBe(false);
    const fourth = ready();
    calls[2]!.settle(true);
    expect(await fourth).toBe(true);
  });
});

describe("/healthz under a slow store", () => {
  it("answers 200 within the balancer's check timeout while the store check is slow, 503 once it fails", async () => {
    let mode: "ok" | "slow" | "down" = "ok";
    const app = createHttpApp({
      logger: silentLogger(),
      metrics: createMetrics({ prefix: "t", defaultMetrics: false }),
      readiness: { answerWithinMs: 50, hangAfterMs: 5_000 },
      ready: async () => {
        if (mode === "slow") await sleep(400);
        if (mode === "down") throw new Error("ECONNREFUSED");
        return true;
      },
    });
    expect((await app.request("/healthz")).status).toBe(200);
    mode = "slow";
    const started = Date.now();
    expect((await app.request("/healthz")).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(300);
    mode = "down";
    await sleep(450); // the slow check ends; the next one is refused at once
    const down = await app.request("/healthz");
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: "unavailable" });
  });
});

describe("/healthz while stopping", () => {
  it("answers 503 at once from the start of shutdown, even while a slow store check would answer ready", async () => {
    let stopping = false;
    const app = createHttpApp({
      logger: silentLogger(),
      metrics: createMetrics({ prefix: "t", defaultMetrics: false }),
      readiness: { answerWithinMs: 5_000, hangAfterMs: 10_000 },
      ready: async () => {
        await sleep(stopping ? 2_000 : 0);
        return true;
      },
      stopping: () => stopping,
    });
    expect((await app.request("/healthz")).status).toBe(200);
    stopping = true;
    const started = Date.now();
    expect((await app.request("/healthz")).status).toBe(503);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
