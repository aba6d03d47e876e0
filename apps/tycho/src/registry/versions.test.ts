import { describe, expect, it } from "vitest";
import type { PackageMeta } from "./meta.ts";
import { compareVersions, highestRemaining, resolveVersion, sortVersions } from "./versions.ts";

const meta = (extra: Partial<PackageMeta> = {}): PackageMeta => ({ localname: "f", latest: null, ...extra });

describe("version order", () => {
  it("orders numerically where tychoreg sorted by text (1.9 < 1.10)", () => {
    expect(sortVersions(["1.10", "1.9", "1.0", "2.0", "1.2.3"])).toEqual([
      "1.0",
      "1.2.3",
      "1.9",
      "1.10",
      "2.0",
    ]);
  });

  it("puts prereleases before their release and non-semver versions first, by bytes", () => {
    expect(sortVersions(["1.0.0", "nightly", "1.0.0-rc.1", "alpha", "v0.9"])).toEqual([
      "alpha",
      "nightly",
      "v0.9",
      "1.0.0-rc.1",
      "1.0.0",
    ]);
  });

  it("breaks semver ties by the strings' byte order, so the order is total", () => {
    expect(compareVersions("1.0", "1.0.0")).toBeLessThan(0);
    expect(compareVersions("1.0.0", "1.0")).toBeGreaterThan(0);
  });
});

describe("resolveVersion", () => {
  const versions = ["1.0", "1.2.0", "1.2.5", "1.10.0", "2.0.0", "2.1.0-beta.1"];

  it("resolves latest through tycho.json", () => {
    expect(resolveVersion("p", "latest", meta({ latest: "1.0" }), versions)).toBe("1.0");
  });

  it("prefers an exact version over a range reading of the same text", () => {
    expect(resolveVersion("p", "1.0", meta(), versions)).toBe("1.0");
  });

  it("resolves a caret range to the highest match, skipping prereleases", () => {
    expect(resolveVersion("p", "^1.2", meta(), versions)).toBe("1.10.0");
    expect(resolveVersion("p", ">=2", meta(), versions)).toBe("2.0.0");
    expect(resolveVersion("p", "~1.2", meta(), versions)).toBe("1.2.5");
  });

  it("never picks a yanked version for a range", () => {
    const yanked = { "1.10.0": { at: "t", by: "u" } };
    expect(resolveVersion("p", "^1.2", meta({ yanked }), versions)).toBe("1.2.5");
  });

  it("fails with NOT_FOUND when nothing matches", () => {
    expect(() => resolveVersion("p", "^3", meta(), versions)).toThrow(
      expect.objectContaining({ code: "NOT_FOUND" }),
    );
    expect(() => resolveVersion("p", "nope", meta(), versions)).toThrow(
      expect.objectContaining({ code: "NOT_FOUND" }),
    );
  });

  it("moves latest to the highest remaining non-yanked version", () => {
    expect(
      highestRemaining(versions, meta({ yanked: { "2.0.0": { at: "t", by: "u" } } }), "2.1.0-beta.1"),
    ).toBe("1.10.0");
    expect(highestRemaining(["1.0"], meta(), "1.0")).toBeNull();
  });
});
