import { describe, expect, it } from "vitest";
import { decodeUploadId, encodeUploadId, multipartPartSize } from "./s3.ts";

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

describe("upload ids", () => {
  it("reads back the conditions it encoded, and never mistakes a Ceph id for one", () => {
    const ceph = "2~mzGGBrRR3-5aaL79qCpuZ6sYG_1j2Ll";
    expect(decodeUploadId(ceph)).toEqual({ id: ceph });
    expect(decodeUploadId("2~n")).toEqual({ id: "2", ifNoneMatch: "*" });
    const etag = "0123456789abcdef0123456789abcdef-3";
    expect(decodeUploadId(encodeUploadId(ceph, { ifMatch: etag }))).toEqual({ id: ceph, ifMatch: etag });
    expect(decodeUploadId(encodeUploadId(ceph, { ifNoneMatch: "*" }))).toEqual({
      id: ceph,
      ifNoneMatch: "*",
    });
    expect(decodeUploadId(encodeUploadId(ceph, {}))).toEqual({ id: ceph });
    expect(() => encodeUploadId(ceph, { ifMatch: "not-an-md5" })).toThrow(/md5 etag/);
  });
});
