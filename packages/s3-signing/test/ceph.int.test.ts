import { CreateMultipartUploadCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { createTestBucket, s3Env, type TestBucket } from "@wharf/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Credentials,
  createPresignedPost,
  createPresigner,
  type S3ErrorCode,
  s3Status,
  verifyPostPolicy,
  verifyPresignedUrl,
} from "../src/index.ts";
import { type PostCase, postCases } from "./post-cases.ts";
import { rawRequest } from "./raw-http.ts";
import { ourInput, type ResolvedCase, urlCases } from "./url-cases.ts";

/** What a server answered, or what our verifier decided: accepted, or the S3 error code. */
type Verdict = "accepted" | S3ErrorCode | `status ${number}`;

let bucket: TestBucket;
let credentials: Credentials;
let getSecret: (id: string) => string | undefined;

beforeAll(async () => {
  bucket = await createTestBucket("s3-signing");
  const env = s3Env();
  credentials = { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey };
  const secrets = new Map([
    [env.accessKeyId, env.secretAccessKey],
    [env.second.accessKeyId, env.second.secretAccessKey],
  ]);
  getSecret = (id) => secrets.get(id);
});

afterAll(async () => {
  await bucket?.[Symbol.asyncDispose]();
});

function cephVerdict(response: { status: number; code: string | undefined }): Verdict {
  if (response.status >= 200 && response.status < 300) return "accepted";
  if (response.code !== undefined) return response.code as S3ErrorCode;
  return `status ${response.status}`;
}

/** Our verdict, spelled as Ceph's; HEAD answers carry no body, so only the status compares. */
function ourVerdict(method: string, decide: () => unknown): Verdict {
  try {
    decide();
    return "accepted";
  } catch (error) {
    const s3Code = (error as { details?: { s3Code?: S3ErrorCode } }).details?.s3Code;
    if (s3Code === undefined) throw error;
    return method === "HEAD" ? `status ${s3Status[s3Code]}` : s3Code;
  }
}

describe("presigned URLs against Ceph RGW", () => {
  type Variant = "as signed" | "tampered signature" | "expired" | "wrong secret" | "unknown access key";
  const variants: readonly [Variant, Verdict][] = [
    ["as signed", "accepted"],
    ["tampered signature", "SignatureDoesNotMatch"],
    ["expired", "AccessDenied"],
    ["wrong secret", "SignatureDoesNotMatch"],
    ["unknown access key", "InvalidAccessKeyId"],
  ];
  const rows = urlCases.flatMap((c) =>
    variants.map(([variant, expected]) => [c.name, variant, expected, c] as const),
  );

  it.each(rows)("%s, %s: Ceph and our verifier agree", async (_name, variant, expected, urlCase) => {
    const env = s3Env();
    const c: ResolvedCase = {
      ...urlCase,
      bucket: bucket.name,
      region: env.region,
      endpoint: env.endpoint,
      forcePathStyle: true,
      key: `${variant.replaceAll(" ", "-")}/${urlCase.key}`,
    };
    const resolved = await prepare(c);
    const keys =
      variant === "wrong secret"
        ? { ...credentials, secretAccessKey: `${credentials.secretAccessKey}x` }
        : variant === "unknown access key"
          ? { accessKeyId: "WHARFUNKNOWNKEY00000", secretAccessKey: "x" }
          : credentials;
    const expiresIn = resolved.expiresIn ?? 900;
    // Short-lived URLs are dated a little ahead (Ceph and our verifier both accept that), so a slow
    // machine cannot turn an "unknown key" case into an "expired" one before the request lands.
    const signedAt =
      variant === "expired"
        ? Date.now() - (expiresIn + 120) * 1000
        : Date.now() + (expiresIn < 60 ? 30_000 : 0);
    const presigner = createPresigner({
      credentials: {
        ...keys,
        ...(resolved.sessionToken !== undefined && { sessionToken: resolved.sessionToken }),
      },
      region: resolved.region,
    });
    const input = ourInput(resolved, new Date(signedAt));
    let url = presigner.presignUrl(input);
    if (variant === "tampered signature")
      url = url.replace(/X-Amz-Signature=(.)/, (_, d) => `X-Amz-Signature=${d === "0" ? "1" : "0"}`);
    const body =
      resolved.operation === "PutObject" || resolved.operation === "UploadPart"
        ? bodyFor(resolved)
        : undefined;
    const headers = { ...input.headers };

    const response = await rawRequest(input.method, url, headers, body);
    const ceph =
      input.method === "HEAD"
        ? response.status < 300
          ? "accepted"
          : `status ${response.status}`
        : cephVerdict(response);
    const ours = ourVerdict(input.method, () =>
      verifyPresignedUrl({
        method: input.method,
        url,
        headers: { ...headers, host: new URL(url).host },
        getSecret,
      }),
    );
    expect({ ceph, ours }).toEqual({
      ceph:
        input.method === "HEAD" && expected !== "accepted"
          ? `status ${s3Status[expected as S3ErrorCode]}`
          : expected,
      ours:
        input.method === "HEAD" && expected !== "accepted"
          ? `status ${s3Status[expected as S3ErrorCode]}`
          : expected,
    });
  });

  it.each([
    ["a + for a space in the path", (u: string) => u.replace("a%20b", "a+b"), "SignatureDoesNotMatch"],
    ["%7E for ~ in the path", (u: string) => u.replace("~", "%7E"), "accepted"],
    ["another key", (u: string) => u.replace("a%20b", "a%20c"), "SignatureDoesNotMatch"],
    [
      "a longer expiry",
      (u: string) => u.replace("X-Amz-Expires=60", "X-Amz-Expires=6000"),
      "SignatureDoesNotMatch",
    ],
    ["no signature", (u: string) => u.replace(/&X-Amz-Signature=[0-9a-f]+/, ""), "AccessDenied"],
    ["another algorithm", (u: string) => u.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"), "AccessDenied"],
    [
      "an expiry over a week",
      (u: string) => u.replace("X-Amz-Expires=60", "X-Amz-Expires=604801"),
      "AccessDenied",
    ],
    [
      "a malformed date",
      (u: string) => u.replace(/X-Amz-Date=(\d{4})\d{4}T/, "X-Amz-Date=$11399T"),
      "AccessDenied",
    ],
  ] as const)("GET with %s: Ceph and our verifier agree", async (_name, tamper, expected) => {
    const key = "edge/a b~c.txt";
    await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: "hello" }));
    const env = s3Env();
    const url = tamper(
      createPresigner({ credentials, region: env.region }).presignUrl({
        method: "GET",
        url: { endpoint: env.endpoint, bucket: bucket.name, key, forcePathStyle: true },
        expiresIn: 60,
      }),
    );
    const ceph = cephVerdict(await rawRequest("GET", url));
    const ours = ourVerdict("GET", () => verifyPresignedUrl({ method: "GET", url, getSecret }));
    expect({ ceph, ours }).toEqual({ ceph: expected, ours: expected });
  });

  it.each([
    ["as signed", (u: string) => u, "accepted"],
    ["+ for %20 in a query value", (u: string) => u.replace("a%20b", "a+b"), "accepted"],
    ["+ for %2B in a query value", (u: string) => u.replace("b%2Bc", "b+c"), "SignatureDoesNotMatch"],
  ] as const)(
    "GET with a signed query parameter, %s: Ceph and our verifier agree",
    async (_name, tamper, expected) => {
      const key = "edge/query";
      await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: "hello" }));
      const env = s3Env();
      const url = tamper(
        createPresigner({ credentials, region: env.region }).presignUrl({
          method: "GET",
          url: { endpoint: env.endpoint, bucket: bucket.name, key, forcePathStyle: true },
          query: { "response-content-disposition": "attachment; filename=a b+c" },
        }),
      );
      const ceph = cephVerdict(await rawRequest("GET", url));
      const ours = ourVerdict("GET", () => verifyPresignedUrl({ method: "GET", url, getSecret }));
      expect({ ceph, ours }).toEqual({ ceph: expected, ours: expected });
    },
  );

  it.each([
    ["the signed headers", { "content-type": "text/csv", "content-length": "5" }, "accepted"],
    ["another Content-Type", { "content-type": "text/html", "content-length": "5" }, "SignatureDoesNotMatch"],
    ["no Content-Type", { "content-length": "5" }, "SignatureDoesNotMatch"],
  ] as const)("PUT with %s: Ceph and our verifier agree", async (_name, headers, expected) => {
    const env = s3Env();
    const url = createPresigner({ credentials, region: env.region }).presignUrl({
      method: "PUT",
      url: { endpoint: env.endpoint, bucket: bucket.name, key: "typed/put.csv", forcePathStyle: true },
      headers: { "content-type": "text/csv", "content-length": 5 },
    });
    const ceph = cephVerdict(await rawRequest("PUT", url, headers, "a,b,c"));
    const ours = ourVerdict("PUT", () => verifyPresignedUrl({ method: "PUT", url, headers, getSecret }));
    expect({ ceph, ours }).toEqual({ ceph: expected, ours: expected });
  });
});

describe("presigned POST forms against Ceph RGW", () => {
  type Variant =
    | "as signed"
    | "tampered signature"
    | "expired"
    | "wrong secret"
    | "unknown access key"
    | "extra field";
  const variants: readonly [Variant, Verdict][] = [
    ["as signed", "accepted"],
    ["tampered signature", "AccessDenied"],
    ["expired", "AccessDenied"],
    ["wrong secret", "AccessDenied"],
    ["unknown access key", "AccessDenied"],
    ["extra field", "AccessDenied"],
  ];
  const rows = postCases.flatMap((c) =>
    variants.map(([variant, expected]) => [c.name, variant, expected, c] as const),
  );

  it.each(rows)("%s, %s: Ceph and our verifier agree", async (_name, variant, expected, c) => {
    const keys =
      variant === "wrong secret"
        ? { ...credentials, secretAccessKey: `${credentials.secretAccessKey}x` }
        : variant === "unknown access key"
          ? { accessKeyId: "WHARFUNKNOWNKEY00000", secretAccessKey: "x" }
          : credentials;
    const expiresIn = c.expiresIn ?? 3600;
    const post = signPost(
      c,
      variant.replaceAll(" ", "-"),
      keys,
      variant === "expired" ? Date.now() - (expiresIn + 120) * 1000 : Date.now(),
    );
    const fields = { ...post.fields };
    if (variant === "tampered signature") fields["X-Amz-Signature"] = "0".repeat(64);
    if (variant === "extra field") fields["x-amz-meta-unsigned"] = "1";
    await expectAgreement(post.url, fields, "hello", expected);
  });

  it.each([
    ["a file over the range", "hello world!", {}, "EntityTooLarge"],
    ["a file under the range", "h", {}, "EntityTooSmall"],
    ["a Content-Type outside the prefix", "hello", { "Content-Type": "image/png" }, "AccessDenied"],
    ["a key outside the prefix", "hello", { key: "elsewhere/x" }, "AccessDenied"],
    ["an x-ignore- field", "hello", { "x-ignore-note": "free" }, "accepted"],
    ["lower-cased field names", "hello", "lower", "accepted"],
  ] as const)("a form with %s: Ceph and our verifier agree", async (_name, body, change, expected) => {
    const env = s3Env();
    const post = createPresignedPost({
      endpoint: env.endpoint,
      forcePathStyle: true,
      bucket: bucket.name,
      region: env.region,
      credentials,
      keyPrefix: "ranged/",
      conditions: [
        ["content-length-range", 2, 10],
        ["starts-with", "$Content-Type", "text/"],
      ],
      fields: { "Content-Type": "text/plain" },
      expiresIn: 60,
    });
    const fields =
      change === "lower"
        ? Object.fromEntries(Object.entries(post.fields).map(([name, value]) => [name.toLowerCase(), value]))
        : { ...post.fields, ...change };
    await expectAgreement(post.url, fields, body, expected);
  });

  it("stores the uploaded file under the substituted key with the signed Content-Type", async () => {
    const env = s3Env();
    const post = createPresignedPost({
      endpoint: env.endpoint,
      forcePathStyle: true,
      bucket: bucket.name,
      region: env.region,
      credentials,
      keyPrefix: "named/",
      fields: { "Content-Type": "text/csv" },
    });
    await expectAgreement(post.url, post.fields, "a,b,c", "accepted");
    const stored = await fetch(
      createPresigner({ credentials, region: env.region }).presignUrl({
        method: "GET",
        url: { endpoint: env.endpoint, bucket: bucket.name, key: "named/upload.txt", forcePathStyle: true },
      }),
    );
    expect(stored.status).toBe(200);
    expect(stored.headers.get("content-type")).toBe("text/csv");
    expect(await stored.text()).toBe("a,b,c");
  });
});

async function expectAgreement(url: string, fields: Record<string, string>, body: string, expected: Verdict) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append("file", new Blob([body]), "upload.txt");
  const response = await fetch(url, { method: "POST", body: form });
  const text = await response.text();
  const ceph = cephVerdict({ status: response.status, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] });
  const ours = ourVerdict("POST", () =>
    verifyPostPolicy({
      bucket: bucket.name,
      fields,
      fileSize: Buffer.byteLength(body),
      filename: "upload.txt",
      getSecret,
    }),
  );
  expect({ ceph, ours }).toEqual({ ceph: expected, ours: expected });
}

function signPost(c: PostCase, prefix: string, keys: Credentials, now: number) {
  const env = s3Env();
  return createPresignedPost({
    endpoint: env.endpoint,
    forcePathStyle: true,
    bucket: bucket.name,
    region: env.region,
    credentials: { ...keys, ...(c.sessionToken !== undefined && { sessionToken: c.sessionToken }) },
    now,
    ...(c.key !== undefined && { key: `${prefix}/${c.key}` }),
    ...(c.keyPrefix !== undefined && { keyPrefix: `${prefix}/${c.keyPrefix}` }),
    ...(c.key === undefined && c.keyPrefix === undefined && { keyPrefix: `${prefix}/` }),
    ...(c.conditions !== undefined && { conditions: c.conditions }),
    ...(c.fields !== undefined && { fields: c.fields }),
    ...(c.expiresIn !== undefined && { expiresIn: c.expiresIn }),
  });
}

/** Puts the object a GET/HEAD/DELETE needs, or opens the multipart upload a part needs. */
async function prepare(c: ResolvedCase): Promise<ResolvedCase> {
  if (c.operation === "GetObject" || c.operation === "HeadObject" || c.operation === "DeleteObject") {
    await bucket.client.send(new PutObjectCommand({ Bucket: c.bucket, Key: c.key, Body: "hello" }));
    return c;
  }
  if (c.operation === "UploadPart") {
    const { UploadId } = await bucket.client.send(
      new CreateMultipartUploadCommand({ Bucket: c.bucket, Key: c.key }),
    );
    return { ...c, uploadPart: { uploadId: UploadId as string, partNumber: c.uploadPart?.partNumber ?? 1 } };
  }
  return c;
}

function bodyFor(c: ResolvedCase): string {
  return "x".repeat(c.contentLength ?? 5);
}
