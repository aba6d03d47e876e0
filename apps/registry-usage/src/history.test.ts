import { createMemoryDriver } from "@wharf/storage-driver";
import { describe, expect, it } from "vitest";
import { createHistory } from "./history.ts";
import type { UsageTotals } from "./usage.ts";

const totals = (size: number): UsageTotals => ({
  size,
  disk_size: size,
  unique_size: size,
  exclusive_size: size,
  shared_size: 0,
  repository_count: 1,
  tag_count: 1,
});
const dayS = 86_400;

describe("history of totals in the store", () => {
  it("records a point when the totals change, keeps the last one per day, and drops old days", async () => {
    const driver = createMemoryDriver();
    let clock = 100 * dayS * 1000;
    const history = createHistory({ driver, prefix: "h/", retentionDays: 30, now: () => clock });
    const at = (days: number) => 100 * dayS + days * dayS;
    expect(await history.record(at(0), totals(1))).toBe(true);
    expect(await history.record(at(0) + 60, totals(1))).toBe(false); // unchanged: nothing written
    expect(await history.record(at(0) + 120, totals(2))).toBe(true); // same day: replaces
    expect(await history.record(at(1), totals(3))).toBe(true);
    expect((await history.points()).map((p) => [p.timestamp, p.size])).toEqual([
      [at(0) + 120, 2],
      [at(1), 3],
    ]);
    // 30 days after the second point was taken, an hour after the first: only the first is too old.
    clock = (at(30) + 3600) * 1000;
    await history.record(at(30), totals(4));
    expect((await history.points()).map((p) => p.size)).toEqual([3, 4]);
  });

  it("is shared by replicas and survives a restart: another instance on the same store sees and extends it", async () => {
    const driver = createMemoryDriver();
    const a = createHistory({ driver, prefix: "" });
    const b = createHistory({ driver, prefix: "" });
    const now = Date.now() / 1000;
    await a.record(now - 2 * dayS, totals(1));
    await b.record(now - dayS, totals(2));
    expect((await createHistory({ driver, prefix: "" }).points()).map((p) => p.size)).toEqual([1, 2]);
  });
});
