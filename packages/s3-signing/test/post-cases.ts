import { FILENAME_PLACEHOLDER, type PostPolicyCondition } from "../src/index.ts";

/** One presigned POST, expressible both to `@aws-sdk/s3-presigned-post` and to ours. */
export interface PostCase {
  readonly name: string;
  readonly key?: string;
  readonly keyPrefix?: string;
  readonly conditions?: readonly PostPolicyCondition[];
  readonly fields?: Readonly<Record<string, string>>;
  readonly expiresIn?: number;
  readonly sessionToken?: string;
}

export const postCases: readonly PostCase[] = [
  { name: "exact key, nothing else", key: "uploads/a.txt" },
  { name: "key prefix (the client names the file)", keyPrefix: "user-1/" },
  { name: "key ending in the filename placeholder", key: `in/${FILENAME_PLACEHOLDER}` },
  { name: "unicode key", key: "été/日本 ü+~.csv" },
  {
    name: "bitstore form: acl, Content-Type, Content-MD5",
    key: "owner/ds/data/a.csv",
    fields: { acl: "public-read", "Content-Type": "text/csv", "Content-MD5": "XUFAKrxLKna5cZ2REBfFkg==" },
  },
  {
    name: "bitstore-shaped form: a length range, acl, Content-MD5 and Content-Type",
    key: "owner/ds/data/a.csv",
    conditions: [["content-length-range", 1, 5]],
    fields: {
      acl: "private",
      "Content-MD5": "XUFAKrxLKna5cZ2REBfFkg==",
      "Content-Type": "text/csv; charset=utf-8",
    },
  },
  {
    name: "two equal length ranges (deduplicated)",
    key: "r",
    conditions: [
      ["content-length-range", 1, 10],
      ["content-length-range", 1, 10],
    ],
    fields: { acl: "private" },
  },
  {
    name: "size range and content-type prefix",
    keyPrefix: "p/",
    conditions: [
      ["content-length-range", 1, 10_485_760],
      ["starts-with", "$Content-Type", "image/"],
    ],
    fields: { "Content-Type": "image/png" },
  },
  {
    name: "metadata and success status, eq condition",
    key: "m.bin",
    conditions: [["eq", "$x-amz-meta-owner", "alice"]],
    fields: { "x-amz-meta-owner": "alice", success_action_status: "201" },
  },
  {
    name: "condition repeating a field (deduplicated)",
    key: "d",
    conditions: [{ acl: "private" }],
    fields: { acl: "private" },
  },
  { name: "session token", key: "t", sessionToken: "FQoG/Zv+token==" },
  { name: "custom expiry", key: "e", expiresIn: 60 },
  { name: "one-week expiry", key: "e", expiresIn: 604_800 },
];

/**
 * More forms for the comparison with the SDK only: a redirect Ceph would follow out of the test,
 * and conditions that name the key, which the Ceph test moves under a prefix of its own.
 */
export const sdkOnlyPostCases: readonly PostCase[] = [
  {
    name: "bitstore form with a verification redirect",
    key: "owner/ds/data/a.csv",
    conditions: [["content-length-range", 1234, 1234]],
    fields: {
      acl: "public-read",
      "Content-MD5": "XUFAKrxLKna5cZ2REBfFkg==",
      "Content-Type": "text/csv",
      success_action_redirect: "https://bitstore.example/rawstore/verify/eyJrIjoiYSJ9.c2ln",
    },
  },
  { name: "a field named key", key: "k", fields: { key: "k", acl: "private" } },
  {
    name: "key prefix repeating a given starts-with condition (deduplicated)",
    keyPrefix: "p/",
    conditions: [["starts-with", "$key", "p/"]],
  },
];

export const postLocations = [
  {
    name: "path-style custom endpoint",
    endpoint: "http://127.0.0.1:7480",
    forcePathStyle: true,
    region: "us-east-1",
  },
  {
    name: "path-style endpoint with base path",
    endpoint: "https://s3.example.com/base",
    forcePathStyle: true,
    region: "eu-west-1",
  },
  {
    name: "virtual-hosted custom endpoint",
    endpoint: "https://storage.example.com:8443",
    region: "us-west-2",
  },
  { name: "AWS default endpoint", region: "ap-southeast-2" },
] as const;
