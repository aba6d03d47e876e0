import { describe, expect, it } from "vitest";
import { multipartPartSize } from "./s3.ts";

describe("multipartPartSize", () => {
  const mib = 1024 * 1024;
  it("keeps the configured part size while 10,000 parts hold the object", () => {
    expect(multipartPartSize(8 * mib, 5 * 1024 * mib)).toBe(8 * mib);
    expect(multipartPartSize(8 * mib, 10_000 * 8 * mib)).toBe(8 * mib);
    expect(multipartPartSize(8 * mib, undefined)).toBe(8 * mib);
  });
  it("grows the parts of a larger object so it fits in 10,000", () => {
    const size = 200 * 1024 * mib;
    const part = multipartPartSize(8 * mib, size);
    expect(part).toBeGreaterThan(8 * mib);
    expect(Math.ceil(size / part)).toBeLessThanOrEqual(10_000);
  });
});
