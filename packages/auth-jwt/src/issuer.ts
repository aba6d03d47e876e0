import type { KeyObject } from "node:crypto";
import { WharfError } from "@wharf/errors";
import { SignJWT } from "jose";
import { parseDuration } from "./duration.ts";
import { type Algorithm, isAlgorithm, isHmac, keyFitsAlgorithm, loadPrivateKey, loadSecret } from "./keys.ts";
import type { Claims } from "./verifier.ts";

export interface IssuerOptions {
  readonly algorithm: Algorithm;
  /** HMAC secret, for HS* only. */
  readonly secret?: string | Uint8Array;
  /** PEM (PKCS#8, PKCS#1, SEC1) or KeyObject, for RS/PS/ES/EdDSA only. */
  readonly privateKey?: string | KeyObject;
  /** `kid` header, so JWKS verifiers can pick the key. */
  readonly keyId?: string;
  readonly issuer?: string;
  readonly audience?: string | readonly string[];
  readonly now?: () => Date;
}

export interface IssueOptions {
  /** Lifetime: seconds, or a duration such as `"2 weeks"` or `"1h"` (see {@link parseDuration}). */
  readonly expiresIn: number | string;
  readonly subject?: string;
  readonly jti?: string;
  /** Also set `nbf` to the issue time. */
  readonly notBefore?: boolean;
}

export interface Issuer {
  /** A signed compact JWT: `claims` plus `iat`, `exp` and the configured `iss`/`aud`. */
  issue(claims: Claims, options: IssueOptions): Promise<string>;
}

/**
 * Signs tokens with one algorithm and one key. The key must belong to the algorithm's family.
 *
 * @example
 * const issuer = createIssuer({ algorithm: "HS256", secret });
 * const token = await issuer.issue({ username: "bob" }, { expiresIn: "2 weeks", subject: "bob" });
 */
export function createIssuer(options: IssuerOptions): Issuer {
  const algorithm = options.algorithm;
  if (!isAlgorithm(algorithm)) invalid(`unsupported algorithm ${JSON.stringify(algorithm)}`);
  let key: Uint8Array | KeyObject;
  if (isHmac(algorithm)) {
    if (options.secret === undefined || options.privateKey !== undefined)
      invalid(`${algorithm} needs a secret`);
    key = loadSecret(options.secret);
  } else {
    if (options.privateKey === undefined || options.secret !== undefined) {
      invalid(`${algorithm} needs a private key`);
    }
    key = loadPrivateKey(options.privateKey);
    if (!keyFitsAlgorithm(key, algorithm)) invalid(`the private key does not fit ${algorithm}`);
  }
  const now = options.now ?? (() => new Date());

  return {
    async issue(claims, issueOptions) {
      const lifetime =
        typeof issueOptions.expiresIn === "number"
          ? issueOptions.expiresIn
          : parseDuration(issueOptions.expiresIn);
      if (!Number.isSafeInteger(lifetime) || lifetime <= 0)
        invalid("expiresIn must be a positive whole number of seconds");
      const issuedAt = Math.floor(now().getTime() / 1000);
      const jwt = new SignJWT({ ...claims })
        .setProtectedHeader(
          options.keyId ? { alg: algorithm, typ: "JWT", kid: options.keyId } : { alg: algorithm, typ: "JWT" },
        )
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + lifetime);
      if (issueOptions.notBefore) jwt.setNotBefore(issuedAt);
      if (issueOptions.subject !== undefined) jwt.setSubject(issueOptions.subject);
      if (issueOptions.jti !== undefined) jwt.setJti(issueOptions.jti);
      if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
      if (options.audience !== undefined) jwt.setAudience(options.audience as string | string[]);
      return jwt.sign(key);
    },
  };
}

function invalid(message: string): never {
  throw new WharfError("INVALID_ARGUMENT", message);
}
