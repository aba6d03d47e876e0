import { createHash } from "node:crypto";
import { createMemoryDriver, type ObjectInfo, type StorageDriver } from "@wharf/storage-driver";
import { describe, expect, it } from "vitest";
import { integrityPlan } from "./integrity.ts";

// The plan is what decides whether a pull of a tychoreg push (no sha256) fails on a mismatch, so the
// store's own description of the object is all it reads: a HEAD from S3 as the s3 driver returns it.
const s3: StorageDriver = createMemoryDriver();
const md5 = createHash("md5").update("payload").digest("hex");
const head = (extra: Partial<ObjectInfo>): ObjectInfo => ({
  key: "pkg/tycho_1.0.pkg",
  size: 7,
  etag: md5,
  lastModified: new Date(),
  metadata: {},
  ...extra,
});

describe("integrityPlan for objects pushed without a sha256", () => {
  it("checks the md5 ETag of unencrypted and SSE-S3 objects", () => {
    expect(integrityPlan(s3, head({}))).toMatchObject({ by: "etag", expected: md5 });
    expect(integrityPlan(s3, head({ encryption: "AES256" }))).toMatchObject({ by: "etag", expected: md5 });
  });

  it.each(["aws:kms", "aws:kms:dsse", "SSE-C:AES256"])(
    "pulls an object under %s unverified instead of failing it on an ETag that is no md5",
    (encryption) => {
      const plan = integrityPlan(s3, head({ encryption }));
      expect(plan.by).toBeNull();
      expect(plan).toMatchObject({ reason: expect.stringContaining(encryption) });
    },
  );

  it("pulls unverified from a store whose etags are no md5s (a folder opened with etag=version)", () => {
    const opaque: StorageDriver = { ...s3, capabilities: { ...s3.capabilities, md5Etags: false } };
    expect(integrityPlan(opaque, head({}))).toMatchObject({ by: null, reason: "no sha256 recorded" });
  });

  it("still prefers a recorded sha256 whatever the encryption", () => {
    expect(integrityPlan(s3, head({ encryption: "aws:kms", sha256: "ab".repeat(32) }))).toMatchObject({
      by: "sha256",
    });
  });
});
