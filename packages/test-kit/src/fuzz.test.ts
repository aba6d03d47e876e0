import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type FuzzSurface, fuzzSurface, runFuzzBench } from "./fuzz.ts";
import { expectClearHttpAnswer, hasMessage } from "./fuzz-http.ts";
import { mutatedJson } from "./fuzz-inputs.ts";

function surface(
  check: (n: number) => void,
  good: () => void = () => {},
): FuzzSurface<number> & { goods: number } {
  const s = {
    name: "fuzz-test",
    inputs: fc.integer({ min: 0, max: 1000 }),
    goods: 0,
    check: async (n: number) => check(n),
    good: async () => {
      s.goods++;
      good();
    },
  };
  return s;
}

describe("fuzzSurface", () => {
  it("fails with the seed and a shrunk counterexample when the oracle rejects an input", async () => {
    const failing = surface((n) => {
      if (n > 500) throw new Error("too big");
    });
    await expect(fuzzSurface(failing, { runs: 200, seed: 42 })).rejects.toThrow(
      /seed: 42[\s\S]*Counterexample: \[501\]/,
    );
  });

  it("sends the good request before, every goodEvery inputs, and after", async () => {
    const passing = surface(() => {});
    await fuzzSurface(passing, { runs: 100, seed: 1, goodEvery: 10 });
    expect(passing.goods).toBe(1 + 10 + 1);
  });

  it("fails when the good request fails between inputs", async () => {
    let calls = 0;
    const dying = surface(
      () => {},
      () => {
        if (++calls > 2) throw new Error("server gone");
      },
    );
    await expect(fuzzSurface(dying, { runs: 100, seed: 1, goodEvery: 10 })).rejects.toThrow(
      /Property failed after 20 tests/,
    );
  });
});

describe("runFuzzBench", () => {
  it("tries every input, counts every failure and keeps the first ten (and the first of each kind) with their replay path", async () => {
    const report = await runFuzzBench(
      surface((n) => {
        if (n % 2 === 1) throw new Error("odd");
      }),
      { runs: 300, seed: 7 },
    );
    expect(report.inputs).toBe(300);
    expect(report.failureCount).toBeGreaterThan(100);
    expect(report.failureCount).toBeLessThan(200);
    expect(report.failures).toHaveLength(10);
    expect(report.failures[0]!.reason).toMatch(/odd/);
    expect(report.failureKinds).toEqual([["Error: odd", report.failureCount]]);
    expect(Number(report.failures[0]!.path)).toBeGreaterThanOrEqual(0);
  });
});

describe("fuzz inputs and the HTTP oracle", () => {
  it("mutatedJson mostly keeps the valid body's shape and sometimes breaks the JSON", () => {
    const samples = fc.sample(mutatedJson({ a: { b: [1, 2] }, c: "x" }), { seed: 3, numRuns: 500 });
    const parsed = samples.filter((text) => {
      try {
        JSON.parse(text);
        return true;
      } catch {
        return false;
      }
    });
    expect(parsed.length).toBeGreaterThan(250);
    expect(parsed.length).toBeLessThan(500);
    expect(samples.some((text) => text.includes('"b"'))).toBe(true);
  });

  it("accepts a 4xx JSON error and a success, refuses a 5xx, a non-JSON 4xx and a wrong shape", async () => {
    const json = (body: unknown, status: number) =>
      new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
    expect(await expectClearHttpAnswer(json({ message: "bad" }, 422), hasMessage)).toBe(422);
    expect(await expectClearHttpAnswer(new Response("ok"), hasMessage)).toBe(200);
    await expect(expectClearHttpAnswer(json({ message: "x" }, 500), hasMessage)).rejects.toThrow(/500/);
    await expect(expectClearHttpAnswer(new Response("nope", { status: 400 }), hasMessage)).rejects.toThrow(
      /content type/,
    );
    await expect(expectClearHttpAnswer(json({ error: "x" }, 400), hasMessage)).rejects.toThrow(/wrong shape/);
  });
});
