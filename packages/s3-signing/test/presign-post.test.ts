import { S3Client } from "@aws-sdk/client-s3";
import { createPresignedPost as sdkCreatePresignedPost } from "@aws-sdk/s3-presigned-post";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type Credentials, createPresignedPost, FILENAME_PLACEHOLDER } from "../src/index.ts";
import { postCases, postLocations } from "./post-cases.ts";

const credentials: Credentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const now = new Date("2024-05-06T23:59:59.999Z");

describe("createPresignedPost matches @aws-sdk/s3-presigned-post", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(now);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  for (const location of postLocations) {
    describe(location.name, () => {
      it.each(postCases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
        const keys = {
          ...credentials,
          ...(c.sessionToken !== undefined && { sessionToken: c.sessionToken }),
        };
        const client = new S3Client({
          region: location.region,
          credentials: keys,
          ...("endpoint" in location && { endpoint: location.endpoint }),
          forcePathStyle: "forcePathStyle" in location,
        });
        const expected = await sdkCreatePresignedPost(client, {
          Bucket: "bkt",
          Key: c.key ?? c.keyPrefix + FILENAME_PLACEHOLDER,
          ...(c.conditions !== undefined && { Conditions: c.conditions as never }),
          ...(c.fields !== undefined && { Fields: { ...c.fields } }),
          ...(c.expiresIn !== undefined && { Expires: c.expiresIn }),
        });
        const ours = createPresignedPost({
          ...location,
          bucket: "bkt",
          ...(c.key !== undefined && { key: c.key }),
          ...(c.keyPrefix !== undefined && { keyPrefix: c.keyPrefix }),
          ...(c.conditions !== undefined && { conditions: c.conditions }),
          ...(c.fields !== undefined && { fields: c.fields }),
          ...(c.expiresIn !== undefined && { expiresIn: c.expiresIn }),
          credentials: keys,
          now,
        });
        expect(ours.url).toBe(expected.url);
        expect(JSON.stringify(ours.fields)).toBe(JSON.stringify(expected.fields));
      });
    });
  }

  it("resolves a credential provider and returns a promise", async () => {
    const post = await createPresignedPost({
      bucket: "bkt",
      key: "k",
      region: "us-east-1",
      credentials: async () => credentials,
      now,
    });
    const direct = createPresignedPost({ bucket: "bkt", key: "k", region: "us-east-1", credentials, now });
    expect(post).toEqual(direct);
  });

  it("rejects a form with neither key nor keyPrefix with INVALID_ARGUMENT", () => {
    expect(() => createPresignedPost({ bucket: "bkt", region: "us-east-1", credentials })).toThrowError(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });
});
