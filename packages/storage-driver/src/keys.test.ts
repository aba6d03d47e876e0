import { isWharfError } from "@wharf/errors";
import { describe, expect, it } from "vitest";
import { validateKey, validatePrefix } from "./keys.ts";

function codeOf(action: () => void): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    return isWharfError(error) ? error.code : "not a WharfError";
  }
}

describe("validateKey", () => {
  it.each([
    "a",
    "photos/2024/cat.jpg",
    "ünïcödé/日本語/😀.txt",
    "with space/and+plus&amp=%20",
    ".hidden/..dots/...",
    "a".repeat(1024),
  ])("accepts %j", (key) => {
    expect(codeOf(() => validateKey(key))).toBeUndefined();
  });

  it.each([
    ["empty", ""],
    ["parent segment", "../etc/passwd"],
    ["inner parent segment", "a/../../b"],
    ["dot segment", "a/./b"],
    ["absolute", "/etc/passwd"],
    ["trailing slash", "folder/"],
    ["empty segment", "a//b"],
    ["NUL", "a\u0000b"],
    ["control character", "a\nb"],
    ["DEL", "a\u007fb"],
    ["backslash", "a\\..\\b"],
    ["too long", "é".repeat(513)],
    ["lone surrogate", "a\ud800b"],
    ["reserved folder", ".wharf-storage/meta/x"],
  ])("rejects a key with %s with INVALID_ARGUMENT", (_why, key) => {
    expect(codeOf(() => validateKey(key))).toBe("INVALID_ARGUMENT");
  });
});

describe("validateKey with folderMarker", () => {
  it.each(["folder/", "a/b/", "a"])("accepts %j", (key) => {
    expect(codeOf(() => validateKey(key, { folderMarker: true }))).toBeUndefined();
  });

  it.each(["/", "a//", "../", "a/../", ".wharf-storage/", "/a/"])("still rejects %j", (key) => {
    expect(codeOf(() => validateKey(key, { folderMarker: true }))).toBe("INVALID_ARGUMENT");
  });
});

describe("validatePrefix", () => {
  it.each(["", "a", "a/", "a/b/c", "a/b/.", "a/b/..", ".wharf"])("accepts %j", (prefix) => {
    expect(codeOf(() => validatePrefix(prefix))).toBeUndefined();
  });

  it.each(["/a", "a//", "../", "a/../b", "a\\b", "a\u0000", ".wharf-storage/"])(
    "rejects %j with INVALID_ARGUMENT",
    (prefix) => {
      expect(codeOf(() => validatePrefix(prefix))).toBe("INVALID_ARGUMENT");
    },
  );
});
