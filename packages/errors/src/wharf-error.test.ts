import { describe, expect, it } from "vitest";
import { errorCodes, isWharfError, WharfError } from "./index.ts";

describe("WharfError", () => {
  it("carries a stable code and the cause", () => {
    const cause = new Error("socket closed");
    const error = new WharfError("UNAVAILABLE", "store unreachable", { cause });
    expect(error.code).toBe("UNAVAILABLE");
    expect(error.cause).toBe(cause);
    expect(error).toBeInstanceOf(Error);
  });

  it("is recognised by isWharfError, optionally narrowed to codes", () => {
    const error = new WharfError("NOT_FOUND", "missing");
    expect(isWharfError(error)).toBe(true);
    expect(isWharfError(error, "NOT_FOUND", "INTERNAL")).toBe(true);
    expect(isWharfError(error, "INTERNAL")).toBe(false);
    expect(isWharfError(new Error("plain"))).toBe(false);
  });

  it("lists each code once", () => {
    expect(new Set(errorCodes).size).toBe(errorCodes.length);
  });
});
