import { describe, expect, it } from "vitest";
import { createPresigner, verifyPresignedUrl } from "../src/index.ts";
import { locations, ourInput, type ResolvedCase, sdkClient, sdkPresign, urlCases } from "./url-cases.ts";

const credentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const getSecret = (id: string) => (id === credentials.accessKeyId ? credentials.secretAccessKey : undefined);
const signedAt = new Date("2024-05-06T07:08:09Z");
const later = signedAt.getTime() + 30_000;
const presigner = createPresigner({ credentials, region: "us-east-1" });
const location = { endpoint: "http://127.0.0.1:7480", bucket: "bkt", forcePathStyle: true };

function sign(overrides: Partial<Parameters<typeof presigner.presignUrl>[0]> = {}) {
  return presigner.presignUrl({
    method: "GET",
    url: { ...location, key: "dir/a b.txt" },
    expiresIn: 60,
    now: signedAt,
    ...overrides,
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

describe("verifyPresignedUrl", () => {
  it.each(urlCases.map((c) => [c.name, c] as const))("accepts the SDK's URL: %s", async (_name, urlCase) => {
    const c: ResolvedCase = { bucket: "bkt", ...urlCase, ...locations[0] };
    const url = await sdkPresign(sdkClient(c, credentials), c, signedAt);
    const { headers, method } = ourInput(c, signedAt);
    const now = signedAt.getTime() + 1000;
    const verified = verifyPresignedUrl({ method, url, headers, now, getSecret, pathPrefix: "/bkt/" });
    expect(verified.key).toBe(c.key);
    expect(verified.accessKeyId).toBe("AKIDEXAMPLE");
    expect(verified.expiresAt.getTime()).toBe(signedAt.getTime() + (c.expiresIn ?? 900) * 1000);
    if (c.signContentHeaders) expect(verified.contentType).toBe(c.contentType);
    if (c.checksumSha256 !== undefined) expect(verified.checksumSha256).toBe(c.checksumSha256);
    if (c.sessionToken !== undefined) expect(verified.sessionToken).toBe(c.sessionToken);
  });

  it("accepts an origin-form target with the Host header, and a fetch Headers object", () => {
    const url = new URL(sign());
    const verified = verifyPresignedUrl({
      method: "GET",
      url: url.pathname + url.search,
      headers: new Headers({ host: url.host }),
      now: later,
      getSecret,
    });
    expect(verified.path).toBe("/bkt/dir/a b.txt");
    expect(verified.key).toBe("bkt/dir/a b.txt");
  });

  it("accepts equivalent encodings of the same path (%7E for ~)", () => {
    const url = sign({ url: { ...location, key: "a~b" } }).replace("a~b", "a%7Eb");
    expect(verifyPresignedUrl({ method: "GET", url, now: later, getSecret }).key).toBe("bkt/a~b");
  });

  it("returns the signed headers a PUT must carry", () => {
    const url = sign({ method: "PUT", headers: { "Content-Type": "text/csv", "content-length": 5 } });
    const verified = verifyPresignedUrl({
      method: "PUT",
      url,
      headers: { "content-type": "text/csv", "content-length": "5", host: "127.0.0.1:7480" },
      now: later,
      getSecret,
    });
    expect(verified).toMatchObject({ contentType: "text/csv", contentLength: 5 });
    expect(Object.keys(verified.signedHeaders)).toEqual(["content-length", "content-type", "host"]);
  });

  it.each([
    ["a changed signature", (u: string) => u.replace(/X-Amz-Signature=./, "X-Amz-Signature=0")],
    [
      "an upper-case signature",
      (u: string) =>
        u.replace(/X-Amz-Signature=[0-9a-f]+/, (s) =>
          s.toUpperCase().replace("X-AMZ-SIGNATURE", "X-Amz-Signature"),
        ),
    ],
    ["another key", (u: string) => u.replace("a%20b", "a%20c")],
    ["a + for the space in the path", (u: string) => u.replace("a%20b", "a+b")],
    ["a longer expiry", (u: string) => u.replace("X-Amz-Expires=60", "X-Amz-Expires=600")],
    ["an added query parameter", (u: string) => `${u}&response-content-type=text%2Fhtml`],
    ["another scope date", (u: string) => u.replace("%2F20240506%2F", "%2F20240507%2F")],
  ])("rejects %s with SignatureDoesNotMatch", (_name, tamper) => {
    expect(
      rejection(() => verifyPresignedUrl({ method: "GET", url: tamper(sign()), now: later, getSecret })),
    ).toEqual({
      code: "PERMISSION_DENIED",
      s3Code: "SignatureDoesNotMatch",
      reason: "signature",
    });
  });

  it("rejects another method with SignatureDoesNotMatch", () => {
    expect(
      rejection(() => verifyPresignedUrl({ method: "HEAD", url: sign(), now: later, getSecret })).s3Code,
    ).toBe("SignatureDoesNotMatch");
  });

  it("rejects a PUT whose signed Content-Type differs with SignatureDoesNotMatch", () => {
    const url = sign({ method: "PUT", headers: { "content-type": "text/plain" } });
    const headers = { "content-type": "text/html" };
    expect(
      rejection(() => verifyPresignedUrl({ method: "PUT", url, headers, now: later, getSecret })).s3Code,
    ).toBe("SignatureDoesNotMatch");
    expect(rejection(() => verifyPresignedUrl({ method: "PUT", url, now: later, getSecret })).s3Code).toBe(
      "SignatureDoesNotMatch",
    );
  });

  it("rejects an expired URL with AccessDenied, before looking at the key or signature", () => {
    const expired = signedAt.getTime() + 61_000;
    const tampered = sign().replace(/X-Amz-Signature=./, "X-Amz-Signature=0");
    for (const url of [sign(), tampered]) {
      expect(rejection(() => verifyPresignedUrl({ method: "GET", url, now: expired, getSecret }))).toEqual({
        code: "PERMISSION_DENIED",
        s3Code: "AccessDenied",
        reason: "expired",
      });
    }
    expect(verifyPresignedUrl({ method: "GET", url: sign(), now: expired - 1000, getSecret }).key).toBe(
      "bkt/dir/a b.txt",
    );
  });

  it("rejects an unknown access key with InvalidAccessKeyId", () => {
    const url = createPresigner({
      credentials: { accessKeyId: "NOPE", secretAccessKey: "x" },
      region: "us-east-1",
    }).presignUrl({
      method: "GET",
      url: { ...location, key: "k" },
      now: signedAt,
    });
    expect(rejection(() => verifyPresignedUrl({ method: "GET", url, now: later, getSecret }))).toMatchObject({
      code: "PERMISSION_DENIED",
      s3Code: "InvalidAccessKeyId",
    });
  });

  it.each([
    ["no signature", (u: string) => u.replace(/&X-Amz-Signature=[0-9a-f]+/, "")],
    ["no credential", (u: string) => u.replace(/X-Amz-Credential=[^&]+&/, "")],
    ["another algorithm", (u: string) => u.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512")],
    ["an expiry over a week", (u: string) => u.replace("X-Amz-Expires=60", "X-Amz-Expires=604801")],
    ["a malformed date", (u: string) => u.replace("X-Amz-Date=20240506T", "X-Amz-Date=20241399T")],
    ["unsigned host", (u: string) => u.replace("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=x-foo")],
    ["broken percent-encoding", (u: string) => `${u}&a=%E0%A4%A`],
  ])("rejects %s with AccessDenied, as Ceph does", (_name, tamper) => {
    expect(
      rejection(() => verifyPresignedUrl({ method: "GET", url: tamper(sign()), now: later, getSecret })),
    ).toEqual({
      code: "PERMISSION_DENIED",
      s3Code: "AccessDenied",
      reason: "malformed",
    });
  });

  it("accepts any region and service in the scope unless told which to expect", () => {
    const url = createPresigner({ credentials, region: "eu-west-1", service: "sts" }).presignUrl({
      method: "GET",
      url: { ...location, key: "k" },
      now: signedAt,
    });
    expect(verifyPresignedUrl({ method: "GET", url, now: later, getSecret }).region).toBe("eu-west-1");
    expect(
      rejection(() => verifyPresignedUrl({ method: "GET", url, now: later, getSecret, region: "us-east-1" }))
        .reason,
    ).toBe("malformed");
    expect(
      rejection(() => verifyPresignedUrl({ method: "GET", url, now: later, getSecret, service: "s3" }))
        .reason,
    ).toBe("malformed");
  });

  it("rejects a path outside pathPrefix with AccessDenied", () => {
    expect(
      rejection(() =>
        verifyPresignedUrl({ method: "GET", url: sign(), now: later, getSecret, pathPrefix: "/other/" }),
      ),
    ).toMatchObject({ s3Code: "AccessDenied", reason: "prefix" });
  });
});
