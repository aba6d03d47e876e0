import { S3Client } from "@aws-sdk/client-s3";
import { createPresignedPost as sdkCreatePresignedPost } from "@aws-sdk/s3-presigned-post";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  type Credentials,
  createPostSigner,
  createPresignedPost,
  FILENAME_PLACEHOLDER,
} from "../src/index.ts";
import { postCases, postLocations, sdkOnlyPostCases } from "./post-cases.ts";

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
      it.each([...postCases, ...sdkOnlyPostCases].map((c) => [c.name, c] as const))(
        "%s",
        async (_name, c) => {
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
        },
      );
    });
  }

  it("signs a bitstore form exactly as the SDK did (a pinned vector)", () => {
    // @aws-sdk/s3-presigned-post 3.x's createPresignedPost output for these inputs at `now`.
    const signer = createPostSigner({
      url: "http://127.0.0.1:7480/bkt",
      bucket: "bkt",
      region: "us-east-1",
      credentials,
      now,
    });
    const signed = signer.policy({
      key: "bob/ds/data/part-0.csv",
      conditions: [["content-length-range", 1000, 1000]],
      fields: { acl: "public-read", "Content-MD5": "XUFAKrxLKna5cZ2REBfFkg==", "Content-Type": "text/csv" },
    });
    expect(signed).toEqual({
      key: "bob/ds/data/part-0.csv",
      policy:
        "eyJleHBpcmF0aW9uIjoiMjAyNC0wNS0wN1QwMDo1OTo1OVoiLCJjb25kaXRpb25zIjpbWyJjb250ZW50LWxlbmd0aC1yYW5nZSIsMTAwMCwxMDAwXSx7ImFjbCI6InB1YmxpYy1yZWFkIn0seyJDb250ZW50LU1ENSI6IlhVRkFLcnhMS25hNWNaMlJFQmZGa2c9PSJ9LHsiQ29udGVudC1UeXBlIjoidGV4dC9jc3YifSx7ImJ1Y2tldCI6ImJrdCJ9LHsiWC1BbXotQWxnb3JpdGhtIjoiQVdTNC1ITUFDLVNIQTI1NiJ9LHsiWC1BbXotQ3JlZGVudGlhbCI6IkFLSURFWEFNUExFLzIwMjQwNTA2L3VzLWVhc3QtMS9zMy9hd3M0X3JlcXVlc3QifSx7IlgtQW16LURhdGUiOiIyMDI0MDUwNlQyMzU5NTlaIn0seyJrZXkiOiJib2IvZHMvZGF0YS9wYXJ0LTAuY3N2In1dfQ==",
      signature: "ffb462a79e82d3c60ddf4e341400811c171f26b3fdf9080cae9f32386d66c985",
    });
  });

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

describe("PostSigner.rangedForms", () => {
  const signer = createPostSigner({
    url: "http://s3.test/bkt",
    bucket: "bkt",
    region: "us-east-1",
    credentials,
    now,
  });
  const range = (min: number, max: number) => [["content-length-range", min, max]] as const;

  it.each([
    [
      "bitstore's fields",
      ["acl", "Content-MD5", "Content-Type"],
      ["private", "XUFAKrxLKna5cZ2REBfFkg==", "text/csv"],
      "a/b.csv",
      5,
      5,
    ],
    ["no fields", [], [], "k", 0, 10],
    ["values to escape", ["x-amz-meta-note"], ['a "quoted"\\ été\u0001'], "été/日本.csv", 1, 2],
    ["a field named like a common one", ["bucket", "acl"], ["bkt", "private"], "k", 1, 1],
    ["a field named key", ["key"], ["k"], "k", 1, 1],
    ["a key ending in the filename placeholder", ["acl"], ["private"], `in/${FILENAME_PLACEHOLDER}`, 1, 1],
    ["a range that is not integers", ["acl"], ["private"], "k", 0.5, 1e21],
  ] as const)("signs as policy() does: %s", (_name, names, values, key, min, max) => {
    const fields = Object.fromEntries(names.map((name, i) => [name, values[i] as string]));
    expect(signer.rangedForms(names)(key, values, min, max)).toEqual(
      signer.policy({ key, fields, conditions: range(min, max) }),
    );
  });

  it("signs each of many forms as policy() does, whether a value repeats the last form's or not", () => {
    const form = signer.rangedForms(["acl", "Content-Type"]);
    const values = [
      ["private", "text/csv"],
      ["private", "text/csv"],
      ["private", 'text/"plain"'],
      ["public-read", 'text/"plain"'],
      ["private", "text/csv"],
    ] as const;
    for (const [i, [acl, type]] of values.entries()) {
      expect(form(`k${i}`, [acl, type], i, i)).toEqual(
        signer.policy({ key: `k${i}`, fields: { acl, "Content-Type": type }, conditions: range(i, i) }),
      );
    }
  });

  it("refuses values that do not match the names with INVALID_ARGUMENT", () => {
    expect(() => signer.rangedForms(["acl", "Content-Type"])("k", ["private"], 1, 1)).toThrowError(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });
});
