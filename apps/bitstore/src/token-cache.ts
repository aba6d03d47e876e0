import { randomBytes } from "node:crypto";
import { createSigningKey } from "@wharf/s3-signing";
import type { TokenVerifier } from "./principal.ts";

export interface TokenCacheOptions {
  /** How long a verified token is trusted without checking its signature again; default 60 s. */
  readonly ttlMs?: number;
  /** Tokens kept at most; the oldest goes first. Default 1000. */
  readonly maxEntries?: number;
  readonly now?: () => Date;
}

/**
 * Remembers tokens whose signature and claims already verified, until the earlier of their `exp`
 * and `ttlMs`: DataHub's client sends the same token for `/authorize` and every `/presign`, and the
 * RSA check was the largest fixed cost of a request. A token that failed is never remembered.
 * Entries are keyed by an HMAC of the token under a per-process random key, so a lookup compares
 * digests, never a token's bytes.
 */
export function cacheVerifiedTokens(verifier: TokenVerifier, options: TokenCacheOptions = {}): TokenVerifier {
  const ttlMs = options.ttlMs ?? 60_000;
  const maxEntries = options.maxEntries ?? 1000;
  const now = options.now ?? (() => new Date());
  const verified = new Map<string, { claims: Readonly<Record<string, unknown>>; until: number }>();
  const cacheKey = createSigningKey(randomBytes(32));
  return {
    async verify(token) {
      const at = now().getTime();
      const id = cacheKey.sign(token);
      const hit = verified.get(id);
      if (hit !== undefined && at < hit.until) return hit.claims;
      verified.delete(id);
      const claims = await verifier.verify(token);
      const exp = typeof claims.exp === "number" ? claims.exp * 1000 : Number.POSITIVE_INFINITY;
      if (verified.size >= maxEntries) verified.delete(verified.keys().next().value as string);
      verified.set(id, { claims, until: Math.min(exp, at + ttlMs) });
      return claims;
    },
  };
}
