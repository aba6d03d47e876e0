import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { describe, expect, it } from "vitest";
import { type Credentials, createPresigner, deriveKey, verifyPresignedUrl } from "../src/index.ts";

const credentials: Credentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const location = { endpoint: "http://127.0.0.1:7480", bucket: "bkt", key: "a b/c.txt", forcePathStyle: true };

function sdk(signingDate: Date, region = "us-east-1") {
  const client = new S3Client({
    region,
    credentials,
    endpoint: location.endpoint,
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  return getSignedUrl(client, new GetObjectCommand({ Bucket: "bkt", Key: location.key }), { signingDate });
}

describe("createPresigner", () => {
  it("derives the signing key of the AWS SigV4 documentation example", () => {
    const key = deriveKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam");
    expect(key.toString("hex")).toBe("f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
  });

  it("verifies the presigned URL of the AWS S3 documentation example", () => {
    const url =
      "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256" +
      "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
      "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
      "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    const verified = verifyPresignedUrl({
      method: "GET",
      url,
      now: Date.UTC(2013, 4, 24, 12),
      getSecret: (id) =>
        id === "AKIAIOSFODNN7EXAMPLE" ? "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" : undefined,
    });
    expect(verified.key).toBe("test.txt");
  });

  it("switches the signing key at midnight UTC, as the SDK does", async () => {
    const presigner = createPresigner({ credentials, region: "us-east-1" });
    for (const at of ["2024-05-06T23:59:59.999Z", "2024-05-07T00:00:00.000Z", "2024-05-06T12:00:00.000Z"]) {
      const now = new Date(at);
      expect(presigner.presignUrl({ method: "GET", url: location, now })).toBe(await sdk(now));
    }
  });

  it("matches a default-configured SDK client when given the checksum parameters it adds", async () => {
    const client = new S3Client({
      region: "us-east-1",
      credentials,
      endpoint: location.endpoint,
      forcePathStyle: true,
    });
    const presigner = createPresigner({ credentials, region: "us-east-1" });
    const signingDate = new Date("2024-05-06T07:08:09Z");
    const get = await getSignedUrl(client, new GetObjectCommand({ Bucket: "bkt", Key: location.key }), {
      signingDate,
    });
    expect(
      presigner.presignUrl({
        method: "GET",
        url: location,
        now: signingDate,
        query: { "x-amz-checksum-mode": "ENABLED" },
      }),
    ).toBe(get);
    const put = await getSignedUrl(client, new PutObjectCommand({ Bucket: "bkt", Key: location.key }), {
      signingDate,
    });
    const query = { "x-amz-checksum-crc32": "AAAAAA==", "x-amz-sdk-checksum-algorithm": "CRC32" };
    expect(presigner.presignUrl({ method: "PUT", url: location, now: signingDate, query })).toBe(put);
  });

  it("signs a full URL string the same as the equivalent location", () => {
    const presigner = createPresigner({ credentials, region: "us-east-1" });
    const now = new Date("2024-05-06T07:08:09Z");
    const fromLocation = presigner.presignUrl({ method: "GET", url: location, now });
    const fromString = presigner.presignUrl({
      method: "GET",
      url: "HTTP://127.0.0.1:7480/bkt/a%20b/c.txt",
      now,
    });
    expect(fromString).toBe(fromLocation);
  });

  it("leaves out x-id when told to, and still verifies", () => {
    const presigner = createPresigner({ credentials, region: "us-east-1" });
    const url = presigner.presignUrl({ method: "GET", url: location, xId: false });
    expect(url).not.toContain("x-id=");
    const getSecret = () => credentials.secretAccessKey;
    expect(verifyPresignedUrl({ method: "GET", url, getSecret }).key).toBe("bkt/a b/c.txt");
  });

  it.each([0, 604_801, 1.5])("rejects expiresIn %s with INVALID_ARGUMENT", (expiresIn) => {
    const presigner = createPresigner({ credentials, region: "us-east-1" });
    expect(() => presigner.presignUrl({ method: "GET", url: location, expiresIn })).toThrowError(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });

  it("rejects a region that cannot go into a scope with INVALID_ARGUMENT", () => {
    expect(() => createPresigner({ credentials, region: "us east/1" })).toThrowError(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });

  it("rejects headers the signer owns with INVALID_ARGUMENT", () => {
    const presigner = createPresigner({ credentials, region: "us-east-1" });
    expect(() =>
      presigner.presignUrl({ method: "GET", url: location, headers: { "X-Amz-Date": "x" } }),
    ).toThrowError(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("asks a credential provider once, and again only when its credentials near expiry", async () => {
    let calls = 0;
    const presigner = createPresigner({
      region: "us-east-1",
      credentials: async () => {
        calls += 1;
        return {
          ...credentials,
          sessionToken: `token-${calls}`,
          expiration: new Date(Date.now() + (calls === 1 ? 60_000 : 3_600_000)),
        };
      },
    });
    const first = await Promise.all(
      [1, 2, 3].map(() => presigner.presignUrl({ method: "GET", url: location })),
    );
    expect(calls).toBe(1);
    expect(first[0]).toContain("X-Amz-Security-Token=token-1");
    const second = await presigner.presignUrl({ method: "GET", url: location });
    expect(calls).toBe(2);
    expect(second).toContain("X-Amz-Security-Token=token-2");
    await presigner.presignUrl({ method: "GET", url: location });
    expect(calls).toBe(2);
  });

  it("turns a failing credential provider into UNAVAILABLE", async () => {
    const presigner = createPresigner({
      region: "us-east-1",
      credentials: () => Promise.reject(new Error("metadata endpoint down")),
    });
    await expect(presigner.presignUrl({ method: "GET", url: location })).rejects.toMatchObject({
      code: "UNAVAILABLE",
    });
  });
});
