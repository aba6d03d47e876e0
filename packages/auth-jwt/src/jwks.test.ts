import { isWharfError, type WharfError } from "@wharf/errors";
import { beforeAll, describe, expect, it } from "vitest";
import { at, ecPair, type PemPair, publicJwk, startJwksServer } from "../test/fixtures.ts";
import { createIssuer } from "./issuer.ts";
import { createVerifier } from "./verifier.ts";

async function rejection(promise: Promise<unknown>): Promise<WharfError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isWharfError(error)) throw new Error(`expected a WharfError, got ${String(error)}`);
  return error;
}

describe("createVerifier with a JWKS URL (real HTTP server on loopback)", () => {
  let first: PemPair;
  let second: PemPair;
  beforeAll(async () => {
    [first, second] = await Promise.all([ecPair(), ecPair()]);
  });

  const sign = (pair: PemPair, kid: string) =>
    createIssuer({ algorithm: "ES256", privateKey: pair.privatePem, keyId: kid, now: at(0) }).issue(
      { sub: "bob" },
      { expiresIn: "1h" },
    );

  it("fetches the key set once and serves later tokens from the cache", async () => {
    await using server = await startJwksServer([await publicJwk(first.publicKey, "k1", "ES256")]);
    const verifier = createVerifier({ algorithms: ["ES256"], jwksUrl: server.url, now: at(60) });
    const token = await sign(first, "k1");
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: "bob" });
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: "bob" });
    expect(server.hits).toBe(1);
  });

  it("refetches when a token names an unknown kid, picking up a rotated key", async () => {
    await using server = await startJwksServer([await publicJwk(first.publicKey, "k1", "ES256")]);
    const verifier = createVerifier({
      algorithms: ["ES256"],
      jwksUrl: server.url,
      jwksCooldownSeconds: 0,
      now: at(60),
    });
    await expect(verifier.verify(await sign(first, "k1"))).resolves.toBeTruthy();
    server.keys = [await publicJwk(second.publicKey, "k2", "ES256")];
    await expect(verifier.verify(await sign(second, "k2"))).resolves.toMatchObject({ sub: "bob" });
    expect(server.hits).toBe(2);
  });

  it("rejects a kid the refetched set still lacks with key_unavailable", async () => {
    await using server = await startJwksServer([await publicJwk(first.publicKey, "k1", "ES256")]);
    const verifier = createVerifier({
      algorithms: ["ES256"],
      jwksUrl: server.url,
      jwksCooldownSeconds: 0,
      now: at(60),
    });
    const error = await rejection(verifier.verify(await sign(second, "unknown")));
    expect(error.code).toBe("UNAUTHENTICATED");
    expect(error.details?.reason).toBe("key_unavailable");
  });

  it("does not refetch for unknown kids during the cooldown", async () => {
    await using server = await startJwksServer([await publicJwk(first.publicKey, "k1", "ES256")]);
    const verifier = createVerifier({ algorithms: ["ES256"], jwksUrl: server.url, now: at(60) });
    await expect(verifier.verify(await sign(first, "k1"))).resolves.toBeTruthy();
    for (let i = 0; i < 3; i++) {
      expect((await rejection(verifier.verify(await sign(second, `x${i}`)))).details?.reason).toBe(
        "key_unavailable",
      );
    }
    expect(server.hits).toBe(1);
  });

  it("rejects a token signed by a key not in the set under a known kid with bad_signature", async () => {
    await using server = await startJwksServer([await publicJwk(first.publicKey, "k1", "ES256")]);
    const verifier = createVerifier({ algorithms: ["ES256"], jwksUrl: server.url, now: at(60) });
    expect((await rejection(verifier.verify(await sign(second, "k1")))).details?.reason).toBe(
      "bad_signature",
    );
  });

  it("answers UNAVAILABLE when the JWKS endpoint fails", async () => {
    await using server = await startJwksServer([]);
    server.failWith = 500;
    const verifier = createVerifier({ algorithms: ["ES256"], jwksUrl: server.url, now: at(60) });
    const error = await rejection(verifier.verify(await sign(first, "k1")));
    expect(error.code).toBe("UNAVAILABLE");
  });

  it("answers UNAVAILABLE when nothing listens at the JWKS URL", async () => {
    const server = await startJwksServer([]);
    const url = server.url;
    await server[Symbol.asyncDispose]();
    const verifier = createVerifier({ algorithms: ["ES256"], jwksUrl: url, now: at(60) });
    const error = await rejection(verifier.verify(await sign(first, "k1")));
    expect(error.code).toBe("UNAVAILABLE");
  });
});
