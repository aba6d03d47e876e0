import { describe, expect, it } from "vitest";
import {
  type Credentials,
  createPresignedPost,
  FILENAME_PLACEHOLDER,
  getSigningKey,
  type PresignedPostInput,
  verifyPostPolicy,
} from "../src/index.ts";
import { postCases } from "./post-cases.ts";

const credentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const getSecret = (id: string) => (id === credentials.accessKeyId ? credentials.secretAccessKey : undefined);
const signedAt = new Date("2024-05-06T07:08:09Z");
const later = signedAt.getTime() + 30_000;

function form(overrides: Partial<PresignedPostInput<Credentials>> = {}) {
  return createPresignedPost({
    bucket: "bkt",
    endpoint: "http://127.0.0.1:7480",
    forcePathStyle: true,
    region: "us-east-1",
    credentials,
    now: signedAt,
    expiresIn: 60,
    keyPrefix: "up/",
    conditions: [
      ["content-length-range", 2, 10],
      ["starts-with", "$Content-Type", "text/"],
    ],
    fields: { "Content-Type": "text/plain", acl: "private", "Content-MD5": "XUFAKrxLKna5cZ2REBfFkg==" },
    ...overrides,
  }).fields;
}

function verify(
  fields: Record<string, string>,
  extra: { fileSize?: number; filename?: string; now?: number } = {},
) {
  return verifyPostPolicy({
    bucket: "bkt",
    fields,
    getSecret,
    now: later,
    fileSize: 5,
    filename: "f.txt",
    ...extra,
  });
}

function rejection(run: () => unknown) {
  try {
    run();
  } catch (error) {
    const { code, details } = error as { code: string; details: { s3Code: string; reason: string } };
    return { code, s3Code: details.s3Code, reason: details.reason };
  }
  throw new Error("expected a rejection");
}

describe("verifyPostPolicy", () => {
  it.each(postCases.map((c) => [c.name, c] as const))("accepts the form we sign: %s", (_name, c) => {
    const fields = createPresignedPost({
      bucket: "bkt",
      region: "us-east-1",
      credentials: { ...credentials, ...(c.sessionToken !== undefined && { sessionToken: c.sessionToken }) },
      now: signedAt,
      ...(c.key !== undefined && { key: c.key }),
      ...(c.keyPrefix !== undefined && { keyPrefix: c.keyPrefix }),
      ...(c.conditions !== undefined && { conditions: c.conditions }),
      ...(c.fields !== undefined && { fields: c.fields }),
      ...(c.expiresIn !== undefined && { expiresIn: c.expiresIn }),
    }).fields;
    const verified = verify(fields, { fileSize: 1, now: signedAt.getTime() + 50_000 });
    expect(verified.key).toBe(
      (c.key ?? c.keyPrefix + FILENAME_PLACEHOLDER).replace(FILENAME_PLACEHOLDER, "f.txt"),
    );
    if (c.sessionToken !== undefined) expect(verified.sessionToken).toBe(c.sessionToken);
  });

  it("returns what the upload must honour", () => {
    const verified = verify({ ...form(), "x-ignore-note": "hi" }, { fileSize: undefined });
    expect(verified).toMatchObject({
      key: "up/f.txt",
      bucket: "bkt",
      accessKeyId: "AKIDEXAMPLE",
      contentType: "text/plain",
      contentMd5: "XUFAKrxLKna5cZ2REBfFkg==",
      acl: "private",
      contentLengthRange: { min: 2, max: 10 },
      expiresAt: new Date(signedAt.getTime() + 60_000),
    });
  });

  it("matches field names case-insensitively", () => {
    const lower = Object.fromEntries(
      Object.entries(form()).map(([name, value]) => [name.toLowerCase(), value]),
    );
    expect(verify(lower).key).toBe("up/f.txt");
  });

  it("rejects a file over the range with EntityTooLarge (PAYLOAD_TOO_LARGE)", () => {
    expect(rejection(() => verify(form(), { fileSize: 11 }))).toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
      s3Code: "EntityTooLarge",
    });
  });

  it("rejects a file under the range with EntityTooSmall (INVALID_ARGUMENT)", () => {
    expect(rejection(() => verify(form(), { fileSize: 1 }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      s3Code: "EntityTooSmall",
    });
  });

  it.each([
    ["a Content-Type outside the prefix", { "Content-Type": "image/png" }, "condition"],
    ["a key outside the prefix", { key: "other/x" }, "condition"],
    ["another acl", { acl: "public-read" }, "condition"],
    ["another Content-MD5", { "Content-MD5": "AAAAKrxLKna5cZ2REBfFkg==" }, "condition"],
    ["a field without a condition", { "x-amz-meta-foo": "bar" }, "extra-field"],
    ["a changed signature", { "X-Amz-Signature": "0".repeat(64) }, "signature"],
    ["a changed date", { "X-Amz-Date": "20240506T070810Z" }, "condition"],
  ])("rejects %s with AccessDenied", (_name, change, reason) => {
    expect(rejection(() => verify({ ...form(), ...change }))).toEqual({
      code: "PERMISSION_DENIED",
      s3Code: "AccessDenied",
      reason,
    });
  });

  it("rejects a tampered policy with AccessDenied", () => {
    const fields = form();
    const policy = JSON.parse(Buffer.from(fields.Policy as string, "base64").toString());
    policy.conditions[0] = ["content-length-range", 0, 1e9];
    const tampered = { ...fields, Policy: Buffer.from(JSON.stringify(policy)).toString("base64") };
    expect(rejection(() => verify(tampered))).toMatchObject({ s3Code: "AccessDenied", reason: "signature" });
  });

  it("rejects an expired policy with AccessDenied", () => {
    expect(rejection(() => verify(form(), { now: signedAt.getTime() + 61_000 }))).toMatchObject({
      s3Code: "AccessDenied",
      reason: "expired",
    });
  });

  it("rejects an unknown access key with AccessDenied, as Ceph does for POST", () => {
    const fields = form({ credentials: { accessKeyId: "NOPE", secretAccessKey: "x" } });
    expect(rejection(() => verify(fields))).toMatchObject({
      code: "PERMISSION_DENIED",
      s3Code: "AccessDenied",
      reason: "unknown-key",
    });
  });

  it("rejects a policy signed for another bucket", () => {
    expect(rejection(() => verify(form({ bucket: "other" })))).toMatchObject({
      s3Code: "AccessDenied",
      reason: "condition",
    });
  });

  it("rejects a form without signature fields with InvalidArgument, and without a policy with AccessDenied", () => {
    const { "X-Amz-Signature": _s, ...unsigned } = form();
    expect(rejection(() => verify(unsigned))).toMatchObject({
      code: "INVALID_ARGUMENT",
      s3Code: "InvalidArgument",
    });
    const { Policy: _p, ...anonymous } = form();
    expect(rejection(() => verify(anonymous))).toMatchObject({
      code: "PERMISSION_DENIED",
      s3Code: "AccessDenied",
    });
  });

  it("applies eq conditions and starts-with to every Content-Type in a list", () => {
    const fields = form({
      keyPrefix: undefined,
      key: "k",
      conditions: [
        ["eq", "$x-amz-meta-owner", "alice"],
        ["starts-with", "$Content-Type", "text/"],
      ],
      fields: { "Content-Type": "text/plain, text/csv" },
    });
    expect(verify({ ...fields, "x-amz-meta-owner": "alice" }).metadata).toEqual({ owner: "alice" });
    expect(rejection(() => verify(fields)).reason).toBe("condition");
    const mixed = form({
      keyPrefix: undefined,
      key: "k",
      conditions: [["starts-with", "$Content-Type", "text/"]],
      fields: { "Content-Type": "text/plain, image/png" },
    });
    expect(rejection(() => verify(mixed)).reason).toBe("condition");
  });

  it("rejects a policy with characters outside base64, whose low bytes would still match the signature", () => {
    const fields = form();
    const policy = fields.Policy as string;
    const forged = String.fromCharCode(policy.charCodeAt(0) + 0x100) + policy.slice(1);
    expect(rejection(() => verify({ ...fields, Policy: forged }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      s3Code: "InvalidPolicyDocument",
    });
  });

  it("rejects a policy that is not base64 JSON with InvalidPolicyDocument", () => {
    const fields = createPresignedPost({
      bucket: "bkt",
      key: "k",
      region: "us-east-1",
      credentials,
      now: signedAt,
    }).fields;
    const garbage = Buffer.from("{not json").toString("base64");
    const resigned = { ...fields, Policy: garbage, "X-Amz-Signature": signPolicy(garbage) };
    expect(rejection(() => verify(resigned))).toMatchObject({
      code: "INVALID_ARGUMENT",
      s3Code: "InvalidPolicyDocument",
    });
  });
});

function signPolicy(policy: string): string {
  return getSigningKey(credentials.secretAccessKey, "20240506", "us-east-1", "s3").sign(policy);
}
