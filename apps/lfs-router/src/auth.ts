import { createHmac, createSecretKey, randomBytes } from "node:crypto";
import {
  type Action,
  authFailure,
  can,
  constantTimeEqual,
  createVerifier,
  extractCredentials,
  parseScopes,
  type Scope,
  scopesFromClaims,
} from "@wharf/auth-jwt";
import { WharfError } from "@wharf/errors";
import { permissionName } from "./layout.ts";
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
  /** Verified credentials remembered for the rest of the token's lifetime, at most 10 minutes (default 10000; 0: none). */
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
  const known = createTtlCache<Principal>(options.tokenCacheSize ?? 10_000, now);
  // Keyed by an HMAC of (user name, token) under a per-process key: a lookup compares digests,
  // never the token's bytes, so its timing tells nothing about a valid token; and a hit means
  // this very pair passed the signature, expiry and user-name checks before.
  const cacheKey = createSecretKey(randomBytes(32));
  const credentialId = (username: string | undefined, token: string) =>
    createHmac("sha256", cacheKey)
      .update(JSON.stringify([username ?? null, token]))
      .digest("base64");

  /** Verifies the token (signature, exp, nbf) and that the Basic user name is the token's. */
  async function verify(
    username: string | undefined,
    token: string,
  ): Promise<{ principal: Principal; until: number }> {
    const claims = await verifier.verify(token);
    const claimed = typeof claims.username === "string" ? claims.username : undefined;
    const subject = typeof claims.sub === "string" ? claims.sub : undefined;
    if (username !== undefined) {
      const matches = [claimed, subject].some((v) => v !== undefined && constantTimeEqual(v, username));
      if (!matches)
        throw authFailure("claim_mismatch", {
          claim: "username",
          message: "the user name does not match the token",
        });
    }
    const name = username ?? claimed ?? subject;
    if (!name) throw authFailure("claim_missing", { claim: "username" });
    const hasScopeClaim = claims.scope !== undefined || claims.scopes !== undefined;
    const expires = typeof claims.exp === "number" ? claims.exp * 1000 : Number.POSITIVE_INFINITY;
    return {
      principal: { name, scopes: hasScopeClaim ? scopesFromClaims(claims) : unscoped },
      until: Math.min(expires, now() + maxCacheMs),
    };
  }

  return {
    async authenticate(headers, url) {
      const credentials = extractCredentials({ headers, url }, ["basic", "bearer"]);
      if (!credentials) return undefined;
      const id = credentialId(credentials.username, credentials.token);
      const cached = known.get(id);
      if (cached) return cached;
      const { principal, until } = await verify(credentials.username, credentials.token);
      known.set(id, principal, until);
      return principal;
    },

    authorize(principal, url, action, ref) {
      const repo = permissionName(url);
      if (!principal) {
        if (action === "read" && can(anonymous, repo, "read")) return;
        throw authFailure("missing");
      }
      if (can(principal.scopes, repo, action)) return;
      if (ref !== undefined && /^refs\/[^\s]+$/.test(ref) && can(principal.scopes, `${repo}/${ref}`, action))
        return;
      throw new WharfError("PERMISSION_DENIED", `${principal.name} may not ${action} ${repo}`, {
        details: { reason: "scope_missing" },
      });
    },
  };
}
