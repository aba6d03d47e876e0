import { S3Client } from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cachedFormBuilders, createFormBuilder, type FormFile, type FormTarget } from "./forms.ts";

const now = new Date("2024-05-06T23:59:59.999Z");
const target: FormTarget = {
  url: "http://127.0.0.1:7480/bkt",
  bucket: "bkt",
  keyPrefix: "pre/",
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
};
const files: FormFile[] = [
  {
    key: "bob/ds/data/part-0.csv",
    length: 1000,
    md5: "XUFAKrxLKna5cZ2REBfFkg==",
    type: "text/csv",
    acl: "public-read",
  },
  {
    key: "bob/ds/été 日本.csv",
    length: 0,
    md5: "1B2M2Y8AsgTpgAmY7PhCfg==",
    type: "text/csv; charset=utf-8",
    acl: "private",
  },
];

describe("upload forms sign as @aws-sdk/s3-presigned-post does", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(now);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each(
    files.flatMap((file) => [
      [file.key, file, undefined] as const,
      [file.key, file, "https://b.example/verify/t"] as const,
    ]),
  )("%s (redirect %s)", async (_name, file, redirect) => {
    const client = new S3Client({
      region: target.region,
      endpoint: "http://127.0.0.1:7480",
      forcePathStyle: true,
      credentials: target.credentials,
    });
    const expected = await createPresignedPost(client, {
      Bucket: target.bucket,
      Key: `${target.keyPrefix}${file.key}`,
      Conditions: [["content-length-range", file.length, file.length]],
      Fields: {
        acl: file.acl,
        "Content-MD5": file.md5,
        "Content-Type": file.type,
        ...(redirect === undefined ? {} : { success_action_redirect: redirect }),
      },
      Expires: 900,
    });
    const form = createFormBuilder(target, { expiresIn: 900, now })(file, redirect);
    expect(form.upload_url).toBe(expected.url);
    expect(form.upload_query).toEqual({
      "Content-MD5": file.md5,
      "Content-Type": file.type,
      acl: file.acl,
      key: expected.fields.key,
      policy: expected.fields.Policy,
      "x-amz-algorithm": expected.fields["X-Amz-Algorithm"],
      "x-amz-credential": expected.fields["X-Amz-Credential"],
      "x-amz-date": expected.fields["X-Amz-Date"],
      "x-amz-signature": expected.fields["X-Amz-Signature"],
      ...(redirect === undefined ? {} : { success_action_redirect: redirect }),
    });
  });
});

describe("cachedFormBuilders", () => {
  it("dates each form by the clock it is given, to the second", () => {
    const builders = cachedFormBuilders(target, 900);
    const file = files[0] as FormFile;
    const at = (iso: string) => builders(new Date(iso))(file).upload_query;
    expect(at("2024-05-06T23:59:59.001Z")).toEqual(
      createFormBuilder(target, { expiresIn: 900, now })(file).upload_query,
    );
    expect(at("2024-05-06T23:59:59.999Z")["x-amz-date"]).toBe("20240506T235959Z");
    expect(at("2024-05-07T00:00:00.000Z")["x-amz-date"]).toBe("20240507T000000Z");
    expect(at("2024-05-06T23:59:58.500Z")["x-amz-date"]).toBe("20240506T235958Z");
  });
});

describe("a form's JSON members", () => {
  // Quotes, backslashes, controls, U+2028, astral and lone surrogates: what JSON.stringify escapes.
  const text = fc.string({
    unit: fc.constantFrom(
      "a",
      "Z",
      "0",
      '"',
      "\\",
      "\n",
      "\u0001",
      "\u2028",
      "é",
      "日",
      "😀",
      "\ud800",
      "/",
      " ",
    ),
  });
  const file = fc.record({
    key: text.filter((key) => key.length > 0),
    length: fc.oneof(fc.nat(), fc.constant(5 * 1024 ** 4)),
    md5: text,
    type: text,
    acl: fc.constantFrom("public-read" as const, "private" as const),
  });

  it("are what JSON.stringify writes of the form", () => {
    const builder = createFormBuilder(target, { expiresIn: 900, now });
    fc.assert(
      fc.property(file, fc.option(text, { nil: undefined }), (f, redirect) => {
        expect(`{${builder.members(f, redirect)}}`).toBe(JSON.stringify(builder(f, redirect)));
      }),
      { numRuns: 500 },
    );
  });
});
