import { createHmac } from "node:crypto";
import { isWharfError, type WharfError } from "@wharf/errors";
import { base64url } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { at, ecPair, ed25519Pair, type PemPair, rawToken, rsaPair, T0 } from "../test/fixtures.ts";
import { createIssuer } from "./issuer.ts";
import { createVerifier, type VerifierOptions } from "./verifier.ts";

const secret = "a-test-secret-of-thirty-two-bytes!";
const hs256 = createIssuer({ algorithm: "HS256", secret, now: at(0) });

async function rejection(promise: Promise<unknown>): Promise<WharfError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isWharfError(error)) throw new Error(`expected a WharfError, got ${String(error)}`);
  return error;
}

function hsVerifier(options: Partial<VerifierOptions> = {}) {
  return createVerifier({ algorithms: ["HS256"], secret, now: at(60), ...options });
}

function hmacSign(header: object, payload: object, key: string): string {
  const unsigned = rawToken(header, payload).slice(0, -1);
  const signature = createHmac("sha256", key).update(unsigned).digest();
  return `${unsigned}.${base64url.encode(signature)}`;
}

describe("createVerifier with HS256", () => {
  it("accepts a token it issued and returns its claims", async () => {
    const token = await hs256.issue({ username: "bob" }, { expiresIn: "1h", subject: "bob" });
    const claims = await hsVerifier().verify(token);
    expect(claims).toMatchObject({ username: "bob", sub: "bob", iat: T0.getTime() / 1000 });
  });

  it("accepts a token without exp unless exp is required (timone's tokens have none)", async () => {
    const token = hmacSign({ alg: "HS256", typ: "JWT" }, { username: "bob" }, secret);
    await expect(hsVerifier().verify(token)).resolves.toMatchObject({ username: "bob" });
    const error = await rejection(hsVerifier({ requiredClaims: ["exp"] }).verify(token));
    expect(error.details).toMatchObject({ reason: "claim_missing", claim: "exp" });
  });

  it("rejects an expired token with UNAUTHENTICATED", async () => {
    const token = await hs256.issue({}, { expiresIn: 3600 });
    const error = await rejection(hsVerifier({ now: at(3601) }).verify(token));
    expect(error.code).toBe("UNAUTHENTICATED");
    expect(error.details?.reason).toBe("expired");
  });

  it("accepts a just-expired token within the clock tolerance", async () => {
    const token = await hs256.issue({}, { expiresIn: 3600 });
    await expect(
      hsVerifier({ now: at(3630), clockToleranceSeconds: 60 }).verify(token),
    ).resolves.toBeTruthy();
  });

  it("rejects a token whose nbf is in the future as not_yet_valid, without crashing", async () => {
    const token = await createIssuer({ algorithm: "HS256", secret, now: at(600) }).issue(
      {},
      { expiresIn: "1h", notBefore: true },
    );
    const error = await rejection(hsVerifier({ now: at(0) }).verify(token));
    expect(error.code).toBe("UNAUTHENTICATED");
    expect(error.details?.reason).toBe("not_yet_valid");
  });

  it("rejects a tampered payload with bad_signature", async () => {
    const token = await hs256.issue({ username: "bob" }, { expiresIn: "1h" });
    const [header, , signature] = token.split(".");
    const forged = `${header}.${base64url.encode(JSON.stringify({ username: "admin", exp: 2e9 }))}.${signature}`;
    const error = await rejection(hsVerifier().verify(forged));
    expect(error.details?.reason).toBe("bad_signature");
  });

  it("rejects a token signed with another secret with bad_signature", async () => {
    const token = await createIssuer({ algorithm: "HS256", secret: "another secret", now: at(0) }).issue(
      {},
      { expiresIn: "1h" },
    );
    const error = await rejection(hsVerifier().verify(token));
    expect(error.details?.reason).toBe("bad_signature");
  });

  it("rejects alg none, with or without a signature, as alg_not_allowed", async () => {
    for (const token of [
      rawToken({ alg: "none" }, { sub: "admin" }),
      rawToken({ alg: "none", typ: "JWT" }, { sub: "admin" }, "c2ln"),
    ]) {
      const error = await rejection(hsVerifier().verify(token));
      expect(error.code).toBe("UNAUTHENTICATED");
      expect(error.details?.reason).toBe("alg_not_allowed");
    }
  });

  it("rejects an algorithm outside the pinned list even with the right secret", async () => {
    const token = await createIssuer({ algorithm: "HS512", secret, now: at(0) }).issue(
      {},
      { expiresIn: "1h" },
    );
    const error = await rejection(hsVerifier().verify(token));
    expect(error.details?.reason).toBe("alg_not_allowed");
  });

  it.each([
    ["an empty string", ""],
    ["two segments", "abc.def"],
    ["garbage segments", "!!!.???.***"],
    ["a header that is not JSON", `${base64url.encode("nope")}.e30.c2ln`],
    ["an over-long token", `${"a".repeat(20_000)}.e30.c2ln`],
  ])("rejects %s as malformed", async (_name, token) => {
    const error = await rejection(hsVerifier().verify(token));
    expect(error.code).toBe("UNAUTHENTICATED");
    expect(error.details?.reason).toBe("malformed");
  });

  it("rejects a correctly signed token whose exp is not a number as malformed", async () => {
    const token = hmacSign({ alg: "HS256" }, { exp: "tomorrow" }, secret);
    const error = await rejection(hsVerifier().verify(token));
    expect(error.details?.reason).toBe("malformed");
  });

  it("checks issuer and audience, reporting claim_mismatch and the claim", async () => {
    const issuer = createIssuer({ algorithm: "HS256", secret, issuer: "wharf", audience: "lfs", now: at(0) });
    const token = await issuer.issue({}, { expiresIn: "1h" });
    await expect(
      hsVerifier({ issuer: "wharf", audience: ["lfs", "tycho"] }).verify(token),
    ).resolves.toBeTruthy();
    const wrongIss = await rejection(hsVerifier({ issuer: "elsewhere" }).verify(token));
    expect(wrongIss.details).toMatchObject({ reason: "claim_mismatch", claim: "iss" });
    const wrongAud = await rejection(hsVerifier({ audience: "bitstore" }).verify(token));
    expect(wrongAud.details).toMatchObject({ reason: "claim_mismatch", claim: "aud" });
    const bare = await hs256.issue({}, { expiresIn: "1h" });
    const missingIss = await rejection(hsVerifier({ issuer: "wharf" }).verify(bare));
    expect(missingIss.details).toMatchObject({ reason: "claim_missing", claim: "iss" });
  });

  it("enforces required and expected claims (bitstore's service claim)", async () => {
    const verifier = hsVerifier({ requiredClaims: ["userid"], expectedClaims: { service: "rawstore" } });
    const good = await hs256.issue({ userid: "u1", service: "rawstore" }, { expiresIn: "1h" });
    await expect(verifier.verify(good)).resolves.toMatchObject({ userid: "u1" });
    const noUser = await rejection(
      verifier.verify(await hs256.issue({ service: "rawstore" }, { expiresIn: "1h" })),
    );
    expect(noUser.details).toMatchObject({ reason: "claim_missing", claim: "userid" });
    const noService = await rejection(
      verifier.verify(await hs256.issue({ userid: "u1" }, { expiresIn: "1h" })),
    );
    expect(noService.details).toMatchObject({ reason: "claim_missing", claim: "service" });
    const wrongService = await rejection(
      verifier.verify(await hs256.issue({ userid: "u1", service: "other" }, { expiresIn: "1h" })),
    );
    expect(wrongService.details).toMatchObject({ reason: "claim_mismatch", claim: "service" });
  });
});

describe("createVerifier with public keys", () => {
  let rsa: PemPair;
  let ec: PemPair;
  let ed: PemPair;
  beforeAll(async () => {
    [rsa, ec, ed] = await Promise.all([rsaPair(), ecPair(), ed25519Pair()]);
  });

  it.each([
    ["RS256", () => rsa],
    ["PS384", () => rsa],
    ["ES256", () => ec],
    ["EdDSA", () => ed],
  ] as const)("verifies %s against a PEM public key", async (algorithm, pair) => {
    const token = await createIssuer({ algorithm, privateKey: pair().privatePem, now: at(0) }).issue(
      { userid: "u1" },
      { expiresIn: "1h" },
    );
    const verifier = createVerifier({ algorithms: [algorithm], publicKey: pair().publicPem, now: at(60) });
    await expect(verifier.verify(token)).resolves.toMatchObject({ userid: "u1" });
  });

  it("accepts a KeyObject as the public key", async () => {
    const token = await createIssuer({ algorithm: "ES256", privateKey: ec.privateKey, now: at(0) }).issue(
      {},
      { expiresIn: "1h" },
    );
    const verifier = createVerifier({ algorithms: ["ES256"], publicKey: ec.publicKey, now: at(60) });
    await expect(verifier.verify(token)).resolves.toBeTruthy();
  });

  it("rejects an HS256 token signed with the RS public key PEM (HS/RS confusion) when only RS256 is pinned", async () => {
    const forged = hmacSign({ alg: "HS256", typ: "JWT" }, { sub: "admin", exp: 2e9 }, rsa.publicPem);
    const verifier = createVerifier({ algorithms: ["RS256"], publicKey: rsa.publicPem, now: at(60) });
    const error = await rejection(verifier.verify(forged));
    expect(error.code).toBe("UNAUTHENTICATED");
    expect(error.details?.reason).toBe("alg_not_allowed");
  });

  it("never uses the public key as the HMAC secret when both families are pinned", async () => {
    const forged = hmacSign({ alg: "HS256", typ: "JWT" }, { sub: "admin", exp: 2e9 }, rsa.publicPem);
    const verifier = createVerifier({
      algorithms: ["HS256", "RS256"],
      secret,
      publicKey: rsa.publicPem,
      now: at(60),
    });
    const error = await rejection(verifier.verify(forged));
    expect(error.details?.reason).toBe("bad_signature");
    const genuine = await createIssuer({ algorithm: "RS256", privateKey: rsa.privatePem, now: at(0) }).issue(
      {},
      { expiresIn: "1h" },
    );
    await expect(verifier.verify(genuine)).resolves.toBeTruthy();
  });

  it("refuses a PEM key as an HMAC secret when built", () => {
    expect(() => createVerifier({ algorithms: ["HS256"], secret: rsa.publicPem })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });

  it("reports key_unavailable when the pinned family has a key of another type", async () => {
    const token = await createIssuer({ algorithm: "ES256", privateKey: ec.privatePem, now: at(0) }).issue(
      {},
      { expiresIn: "1h" },
    );
    const verifier = createVerifier({
      algorithms: ["RS256", "ES256"],
      publicKey: rsa.publicPem,
      now: at(60),
    });
    const error = await rejection(verifier.verify(token));
    expect(error.details?.reason).toBe("key_unavailable");
  });

  it("rejects a token signed by another RSA key with bad_signature", async () => {
    const other = await rsaPair();
    const token = await createIssuer({ algorithm: "RS256", privateKey: other.privatePem, now: at(0) }).issue(
      {},
      { expiresIn: "1h" },
    );
    const verifier = createVerifier({ algorithms: ["RS256"], publicKey: rsa.publicPem, now: at(60) });
    expect((await rejection(verifier.verify(token))).details?.reason).toBe("bad_signature");
  });

  it.each([
    ["no algorithms", { algorithms: [] }],
    ["alg none", { algorithms: ["none"], secret }],
    ["HS256 without a secret", { algorithms: ["HS256"] }],
    ["RS256 without a key", { algorithms: ["RS256"] }],
    ["a public key fitting no pinned algorithm", { algorithms: ["ES256"], publicKey: "" }],
    ["both publicKey and jwksUrl", { algorithms: ["RS256"], publicKey: "", jwksUrl: "http://127.0.0.1/" }],
  ])("refuses to build with %s", (_name, options) => {
    const built = { ...options } as unknown as VerifierOptions;
    if ("publicKey" in built) Object.assign(built, { publicKey: rsa.publicPem });
    expect(() => createVerifier(built)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
