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

  return {
    async authenticate(headers, url) {
      const credentials = extractCredentials({ headers, url }, ["basic", "bearer"]);
      if (!credentials) return undefined;
      const claims = await verifier.verify(credentials.token);
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
      const hasScopeClaim = claims.scope !== undefined || claims.scopes !== undefined;
      return { name, scopes: hasScopeClaim ? scopesFromClaims(claims) : unscoped };
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
