import type { KeyObject } from "node:crypto";
import { isWharfError, WharfError } from "@wharf/errors";
import {
  type CryptoKey,
  createRemoteJWKSet,
  errors,
  type JWSHeaderParameters,
  type JWTPayload,
  jwtVerify,
  type RemoteJWKSet,
} from "jose";
import { authFailure } from "./auth-error.ts";
import { type Algorithm, isAlgorithm, isHmac, keyFitsAlgorithm, loadPublicKey, loadSecret } from "./keys.ts";

/** A verified JWT claims set. */
export type Claims = JWTPayload;

export interface VerifierOptions {
  /** The pinned algorithm list; a token whose header names any other algorithm is refused. */
  readonly algorithms: readonly Algorithm[];
  /** HMAC secret for HS*; never used for any other family. */
  readonly secret?: string | Uint8Array;
  /** PEM (SPKI, PKCS#1, X.509) or KeyObject for RS/PS/ES/EdDSA. Exclusive with `jwksUrl`. */
  readonly publicKey?: string | KeyObject;
  /** A JWKS document URL; keys are cached and refetched when a token names an unknown `kid`. */
  readonly jwksUrl?: string | URL;
  /** Minimum seconds between two JWKS refetches caused by unknown keys (default 30). */
  readonly jwksCooldownSeconds?: number;
  /** Seconds a fetched JWKS is used before it is refetched (default 600). */
  readonly jwksCacheMaxAgeSeconds?: number;
  /** JWKS HTTP timeout in milliseconds (default 5000). */
  readonly jwksTimeoutMs?: number;
  readonly issuer?: string | readonly string[];
  readonly audience?: string | readonly string[];
  /** Tolerance for `exp` and `nbf`, in seconds (default 0). */
  readonly clockToleranceSeconds?: number;
  /** Claims that must be present. */
  readonly requiredClaims?: readonly string[];
  /** Claims that must be present and equal to these values (e.g. `{ service: "rawstore" }`). */
  readonly expectedClaims?: Readonly<Record<string, string | number | boolean>>;
  readonly now?: () => Date;
}

export interface Verifier {
  /**
   * The token's claims once its signature and claims are valid. Rejects with `UNAUTHENTICATED`
   * (`details.reason`: expired, not_yet_valid, bad_signature, malformed, alg_not_allowed,
   * claim_missing, claim_mismatch, key_unavailable), or `UNAVAILABLE` when the JWKS cannot be fetched.
   */
  verify(token: string): Promise<Claims>;
}

const maxTokenLength = 16 * 1024;

/** Wraps whatever the JWKS fetch throws, so it is told apart from verification errors. */
class KeySourceError extends Error {}

/**
 * A JWT verifier with a pinned algorithm list. The key is chosen by the algorithm's family, so an
 * HMAC secret is never used as a public key and a public key never as an HMAC secret.
 *
 * @example
 * const verifier = createVerifier({ algorithms: ["HS256"], secret: config.tokenSecret });
 * const claims = await verifier.verify(token);
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const algorithms = checkAlgorithms(options.algorithms);
  const wantsHmac = algorithms.some(isHmac);
  const wantsAsymmetric = algorithms.some((algorithm) => !isHmac(algorithm));
  const secret = options.secret === undefined ? undefined : loadSecret(options.secret);
  if (wantsHmac && !secret) invalid("HS* algorithms need a secret");
  if (options.publicKey !== undefined && options.jwksUrl !== undefined) {
    invalid("give publicKey or jwksUrl, not both");
  }
  const publicKey = options.publicKey === undefined ? undefined : loadPublicKey(options.publicKey);
  if (wantsAsymmetric && !publicKey && options.jwksUrl === undefined) {
    invalid("asymmetric algorithms need a publicKey or a jwksUrl");
  }
  if (
    publicKey &&
    !algorithms.some((algorithm) => !isHmac(algorithm) && keyFitsAlgorithm(publicKey, algorithm))
  ) {
    invalid("publicKey does not fit any of the pinned algorithms");
  }
  const jwks = options.jwksUrl === undefined ? undefined : remoteKeySet(options);
  const now = options.now ?? (() => new Date());

  async function resolveKey(header: JWSHeaderParameters): Promise<Uint8Array | KeyObject | CryptoKey> {
    const algorithm = header.alg as Algorithm;
    if (isHmac(algorithm)) {
      if (!secret) throw authFailure("key_unavailable");
      return secret;
    }
    if (publicKey) {
      if (!keyFitsAlgorithm(publicKey, algorithm)) throw authFailure("key_unavailable");
      return publicKey;
    }
    if (!jwks) throw authFailure("key_unavailable");
    try {
      return await jwks(header);
    } catch (error) {
      throw new KeySourceError("JWKS lookup failed", { cause: error });
    }
  }

  return {
    async verify(token) {
      if (typeof token !== "string" || token.length === 0 || token.length > maxTokenLength) {
        throw authFailure("malformed", { message: "the token is malformed" });
      }
      let payload: Claims;
      try {
        ({ payload } = await jwtVerify(token, resolveKey, {
          algorithms: [...algorithms],
          issuer: options.issuer as string | string[] | undefined,
          audience: options.audience as string | string[] | undefined,
          clockTolerance: options.clockToleranceSeconds ?? 0,
          requiredClaims: options.requiredClaims ? [...options.requiredClaims] : undefined,
          currentDate: now(),
        }));
      } catch (error) {
        throw translate(error);
      }
      for (const [claim, expected] of Object.entries(options.expectedClaims ?? {})) {
        if (!(claim in payload)) throw authFailure("claim_missing", { claim });
        if (payload[claim] !== expected) throw authFailure("claim_mismatch", { claim });
      }
      return payload;
    },
  };
}

function remoteKeySet(options: VerifierOptions): RemoteJWKSet {
  let url: URL;
  try {
    url = new URL(options.jwksUrl as string | URL);
  } catch (cause) {
    return invalid("jwksUrl is not a URL", cause);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") invalid("jwksUrl must be http(s)");
  return createRemoteJWKSet(url, {
    cooldownDuration: (options.jwksCooldownSeconds ?? 30) * 1000,
    cacheMaxAge: (options.jwksCacheMaxAgeSeconds ?? 600) * 1000,
    timeoutDuration: options.jwksTimeoutMs ?? 5000,
  });
}

function checkAlgorithms(list: readonly Algorithm[]): readonly Algorithm[] {
  if (!Array.isArray(list) || list.length === 0) invalid("algorithms must list at least one algorithm");
  for (const algorithm of list) {
    if (!isAlgorithm(algorithm)) invalid(`unsupported algorithm ${JSON.stringify(algorithm)}`);
  }
  return list;
}

function invalid(message: string, cause?: unknown): never {
  throw new WharfError("INVALID_ARGUMENT", message, { cause });
}

function translate(error: unknown): WharfError {
  if (isWharfError(error)) return error;
  if (error instanceof KeySourceError) return translateKeySource(error.cause);
  if (error instanceof errors.JWTExpired) return authFailure("expired", { cause: error });
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = error.claim;
    if (error.reason === "missing") return authFailure("claim_missing", { claim, cause: error });
    if (error.reason === "invalid") return authFailure("malformed", { claim, cause: error });
    if (claim === "nbf") return authFailure("not_yet_valid", { cause: error });
    return authFailure("claim_mismatch", { claim, cause: error });
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return authFailure("bad_signature", { cause: error });
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return authFailure("alg_not_allowed", { cause: error });
  if (
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JOSENotSupported
  ) {
    return authFailure("malformed", { message: "the token is malformed", cause: error });
  }
  return authFailure("key_unavailable", { cause: error });
}

function translateKeySource(cause: unknown): WharfError {
  if (cause instanceof errors.JWKSNoMatchingKey || cause instanceof errors.JWKSMultipleMatchingKeys) {
    return authFailure("key_unavailable", { cause });
  }
  return new WharfError("UNAVAILABLE", "the JWKS endpoint could not be read", {
    cause,
    details: { reason: "key_unavailable" },
  });
}
