import { createHmac, createSecretKey, randomBytes } from "node:crypto";
import {
  type Action,
  authFailure,
  type Claims,
  can,
  constantTimeEqual,
  createVerifier,
  extractCredentials,
  parseScopes,
  type Scope,
  scopesFromClaims,
} from "@wharf/auth-jwt";
import { WharfError } from "@wharf/errors";
import { createTtlCache } from "./ttl-cache.ts";

/** Who is asking. `undefined` stands for an anonymous request. */
export interface Principal {
  /** The lock owner name: the Basic user, else the `username` claim, else `sub`. */
  readonly name: string;
  readonly scopes: readonly Scope[];
}

export interface AuthOptions {
  readonly secret: string;
  readonly algorithms: readonly ("HS256" | "HS384" | "HS512")[];
  /** Repository patterns readable without credentials. */
  readonly anonymousRead: readonly string[];
  /** Scopes for a valid token with no `scope`/`scopes` claim. */
  readonly unscopedTokenScopes: readonly string[];
  /** Verified tokens remembered for the rest of their lifetime, at most 10 minutes (default 10000; 0: none). */
  readonly tokenCacheSize?: number;
  readonly now?: () => Date;
}

export interface Authenticator {
  /** The principal behind the request's credentials; `undefined` when none were sent. 401-class failures throw. */
  authenticate(headers: Headers, url: string): Promise<Principal | undefined>;
  /**
   * Refuses unless `principal` may do `action` on `repo` (and on `ref`, when given: a scope on
   * `org/repo/refs/heads/main` grants that branch only). Anonymous → `UNAUTHENTICATED`, else `PERMISSION_DENIED`.
   */
  authorize(principal: Principal | undefined, repo: string, action: Action, ref?: string): void;
}

interface Verified {
  readonly claims: Claims;
  readonly scopes: readonly Scope[];
}

const maxCacheMs = 10 * 60 * 1000;

/**
 * timone-compatible auth: Basic with the user name and an HS256 JWT whose `username` claim (or
 * `sub`) equals it, or `Bearer <jwt>`; per-repository read/write/admin from the token's scopes.
 */
export function createAuthenticator(options: AuthOptions): Authenticator {
  const verifier = createVerifier({
    algorithms: options.algorithms,
    secret: options.secret,
    clockToleranceSeconds: 5,
    ...(options.now ? { now: options.now } : {}),
  });
  const anonymous = parseScopes(options.anonymousRead.map((pattern) => `${pattern}:read`));
  const unscoped = parseScopes([...options.unscopedTokenScopes]);
  const now = () => (options.now ?? (() => new Date()))().getTime();
  const verified = createTtlCache<Verified>(options.tokenCacheSize ?? 10_000, now);
  // Keyed by an HMAC of the token under a per-process key: a lookup compares digests, never the
  // token's bytes, so its timing tells nothing about a valid token.
  const cacheKey = createSecretKey(randomBytes(32));
  const tokenId = (token: string) => createHmac("sha256", cacheKey).update(token).digest("base64");

  /** The token's claims and scopes: from the cache, else verified (signature, exp, nbf) and cached. */
  async function verify(token: string): Promise<Verified> {
    const id = tokenId(token);
    const known = verified.get(id);
    if (known) return known;
    const claims = await verifier.verify(token);
    const hasScopeClaim = claims.scope !== undefined || claims.scopes !== undefined;
    const result = { claims, scopes: hasScopeClaim ? scopesFromClaims(claims) : unscoped };
    const expires = typeof claims.exp === "number" ? claims.exp * 1000 : Number.POSITIVE_INFINITY;
    verified.set(id, result, Math.min(expires, now() + maxCacheMs));
    return result;
  }

  return {
    async authenticate(headers, url) {
      const credentials = extractCredentials({ headers, url }, ["basic", "bearer"]);
      if (!credentials) return undefined;
      const { claims, scopes } = await verify(credentials.token);
      const username = typeof claims.username === "string" ? claims.username : undefined;
      const subject = typeof claims.sub === "string" ? claims.sub : undefined;
      if (credentials.username !== undefined) {
        const user = credentials.username;
        const matches = [username, subject].some((v) => v !== undefined && constantTimeEqual(v, user));
        if (!matches)
          throw authFailure("claim_mismatch", {
            claim: "username",
            message: "the user name does not match the token",
          });
      }
      const name = credentials.username ?? username ?? subject;
      if (!name) throw authFailure("claim_missing", { claim: "username" });
      return { name, scopes };
    },

    authorize(principal, repo, action, ref) {
      if (!principal) {
        if (action === "read" && can(anonymous, repo, "read")) return;
        throw authFailure("missing");
      }
      if (can(principal.scopes, repo, action)) return;
      if (ref !== undefined && /^refs\/[^\s]+$/.test(ref) && can(principal.scopes, `${repo}/${ref}`, action))
        return;
      throw new WharfError("PERMISSION_DENIED", `${principal.name} may not ${action} ${repo}`);
    },
  };
}
