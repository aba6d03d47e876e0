import { describe, expect, it } from "vitest";
import { compareKeys } from "./compare-keys.ts";

describe("compareKeys", () => {
  it("orders keys as their UTF-8 bytes", () => {
    const keys = ["😀", "\uffff", "a/b", "a-c", "a", "é", "\ue000", "Z", "a/"];
    const byBytes = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect([...keys].sort(compareKeys)).toEqual(byBytes);
  });
});
