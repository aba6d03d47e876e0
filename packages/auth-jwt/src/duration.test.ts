import { describe, expect, it } from "vitest";
import { parseDuration } from "./duration.ts";

describe("parseDuration", () => {
  it.each([
    ["2 weeks", 1_209_600],
    ["1 week", 604_800],
    ["2w", 1_209_600],
    ["1h", 3600],
    ["1 hour", 3600],
    ["3 HOURS", 10_800],
    ["90s", 90],
    ["1 second", 1],
    ["5 Minutes", 300],
    ["10m", 600],
    ["2d", 172_800],
    ["1 day", 86_400],
    [" 7 days ", 604_800],
    ["0s", 0],
  ])("reads %j as %i seconds", (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(["", "2", "weeks", "2 fortnights", "-1h", "1.5h", "1 h 30 m", "h1", "1hh", "99999999999999999w"])(
    "rejects %j with INVALID_ARGUMENT",
    (text) => {
      expect(() => parseDuration(text)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    },
  );
});
