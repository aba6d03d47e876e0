import { isWharfError } from "@wharf/errors";
import { describe, expect, it } from "vitest";
import { dirPrefix, globMatcher, keyOf, parentOf, quotePath, resolvePath } from "./paths.ts";

describe("resolvePath", () => {
  it.each([
    ["/", "a", "/a"],
    ["/a", "b/c", "/a/b/c"],
    ["/a", "/x", "/x"],
    ["/a/b", "..", "/a"],
    ["/a", "../../../../etc/passwd", "/etc/passwd"],
    ["/", "/../..", "/"],
    ["/a", "./b//c/.", "/a/b/c"],
    ["/", "£ 😀", "/£ 😀"],
  ])("resolves %s + %s to %s without leaving the root", (cwd, argument, expected) => {
    expect(resolvePath(cwd, argument)).toBe(expected);
  });

  it.each(["a\u0000b", "a\rb", "a\\b", "x\u007f"])("refuses %j with INVALID_ARGUMENT", (argument) => {
    expect(() => resolvePath("/", argument)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("refuses segments over 255 bytes", () => {
    try {
      resolvePath("/", "x".repeat(256));
      expect.unreachable();
    } catch (error) {
      expect(isWharfError(error, "INVALID_ARGUMENT")).toBe(true);
    }
  });
});

describe("keys", () => {
  it("maps virtual paths under the home prefix", () => {
    expect(keyOf("", "/a/b")).toBe("a/b");
    expect(keyOf("users/bob", "/a")).toBe("users/bob/a");
    expect(dirPrefix("", "/")).toBe("");
    expect(dirPrefix("users/bob", "/")).toBe("users/bob/");
    expect(dirPrefix("h", "/a")).toBe("h/a/");
    expect(parentOf("/a/b")).toBe("/a");
    expect(parentOf("/a")).toBe("/");
    expect(quotePath('/say "hi"')).toBe('"/say ""hi"""');
  });
});

describe("globMatcher", () => {
  it("matches * and ? only, everything else literally", () => {
    const csv = globMatcher("*.csv");
    expect(["a.csv", ".csv", "x.y.csv"].every(csv)).toBe(true);
    expect(["a.csvx", "acsv", "a.CSV"].some(csv)).toBe(false);
    expect(globMatcher("r?(1)+.txt")("r1(1)+.txt")).toBe(true);
    expect(globMatcher("r?(1)+.txt")("r(1)+.txt")).toBe(false);
    expect(globMatcher("[ab]*")("a1")).toBe(false);
    expect(globMatcher("[ab]*")("[ab]1")).toBe(true);
  });
});
