import { isWharfError, WharfError } from "@wharf/errors";
import type { Context, MiddlewareHandler } from "hono";
import { authFailure, authFailureReason } from "./auth-error.ts";
import {
  type CredentialRequest,
  type CredentialSource,
  type Credentials,
  extractCredentials,
} from "./credentials.ts";
import { type Scope, scopesFromClaims } from "./permissions.ts";
import { constantTimeEqual } from "./secrets.ts";
import type { Claims, Verifier } from "./verifier.ts";

/** How a 401 tells the client to authenticate. */
export interface Challenge {
  readonly scheme: "Basic" | "Bearer";
  readonly realm: string;
  /** Further challenge headers, e.g. `{ "LFS-Authenticate": 'Basic realm="Git LFS"' }`. */
  readonly extraHeaders?: Readonly<Record<string, string>>;
}

/** Who made the request, as `c.get("principal")` holds it. */
export interface Principal {
  /** `sub`, else the verified username, else `""`. */
  readonly subject: string;
  /**
   * The `usernameClaim` value (which a Basic user name must equal). Unset without `usernameClaim`:
   * an unchecked Basic user name is never reported.
   */
  readonly username?: string;
  readonly claims: Claims;
  readonly scopes: readonly Scope[];
  readonly source: CredentialSource;
}

export interface AuthVariables {
  /** `undefined` for an anonymous request when the middleware is `optional`. */
  principal: Principal | undefined;
}

export interface AuthEnv {
  Variables: AuthVariables;
}

export interface JwtAuthOptions {
  readonly verifier: Verifier;
  readonly sources: readonly CredentialSource[];
  readonly challenge: Challenge;
  /** With Basic credentials, the user name must equal this claim (timone: `"username"`). */
  readonly usernameClaim?: string;
  /** Let requests without any credential through with `principal` undefined. */
  readonly optional?: boolean;
  /**
   * Answers an `UNAUTHENTICATED` failure itself (e.g. {@link unauthorizedResponse}). Without it the
   * middleware throws the error, carrying `details.challenge`, for the app's error handler.
   */
  readonly onError?: (error: WharfError, c: Context) => Response | Promise<Response>;
}

/**
 * hono middleware: finds a credential in `sources`, verifies it and sets `c.get("principal")`.
 * Failures throw `UNAUTHENTICATED` with `details.reason` and `details.challenge`, so the app's one
 * error table answers 401 (pass {@link authErrorHeaders} as http-kit's `errorHeaders` for the
 * `WWW-Authenticate` header); `UNAVAILABLE` (JWKS down) is thrown as is.
 *
 * @example
 * app.use("/:org/:repo/info/lfs/*", jwtAuth({
 *   verifier, sources: ["basic", "bearer"], usernameClaim: "username",
 *   challenge: { scheme: "Basic", realm: "wharf", extraHeaders: { "LFS-Authenticate": 'Basic realm="wharf"' } },
 * }));
 */
export function jwtAuth(options: JwtAuthOptions): MiddlewareHandler<AuthEnv> {
  const wantsForm = options.sources.some((source) => source.startsWith("form:"));
  return async (c, next) => {
    let principal: Principal | undefined;
    try {
      principal = await authenticate(c, options, wantsForm);
    } catch (error) {
      if (!isWharfError(error, "UNAUTHENTICATED")) throw error;
      const failure = withChallenge(error, options.challenge);
      if (!options.onError) throw failure;
      // Answered here, not by the app's onError: `c.error` still tells a request log why.
      c.error = failure;
      return options.onError(failure, c);
    }
    c.set("principal", principal);
    await next();
  };
}

async function authenticate(
  c: Context,
  options: JwtAuthOptions,
  wantsForm: boolean,
): Promise<Principal | undefined> {
  const request: CredentialRequest = {
    headers: c.req.raw.headers,
    url: c.req.url,
    form: wantsForm ? await formOf(c) : undefined,
  };
  const credentials = extractCredentials(request, options.sources);
  if (!credentials) {
    if (options.optional) return undefined;
    throw authFailure("missing");
  }
  const claims = await options.verifier.verify(credentials.token);
  return principalOf(credentials, claims, options.usernameClaim);
}

async function formOf(c: Context): Promise<Record<string, string | File> | undefined> {
  const type = c.req.header("content-type")?.toLowerCase() ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded") && !type.startsWith("multipart/form-data")) {
    return undefined;
  }
  try {
    return (await c.req.parseBody()) as Record<string, string | File>;
  } catch (cause) {
    throw new WharfError("INVALID_ARGUMENT", "the form body cannot be parsed", { cause });
  }
}

function principalOf(credentials: Credentials, claims: Claims, usernameClaim: string | undefined): Principal {
  let username: string | undefined;
  if (usernameClaim !== undefined) {
    const claimed = claims[usernameClaim];
    if (claimed === undefined) throw authFailure("claim_missing", { claim: usernameClaim });
    if (typeof claimed !== "string") throw authFailure("claim_mismatch", { claim: usernameClaim });
    if (credentials.username !== undefined && !constantTimeEqual(credentials.username, claimed)) {
      throw authFailure("claim_mismatch", {
        claim: usernameClaim,
        message: "the user name does not match the token",
      });
    }
    username = claimed;
  }
  const subject = typeof claims.sub === "string" ? claims.sub : (username ?? "");
  const principal: Principal = {
    subject,
    claims,
    scopes: scopesFromClaims(claims),
    source: credentials.source,
  };
  return username === undefined ? principal : { ...principal, username };
}

function withChallenge(error: WharfError, challenge: Challenge): WharfError {
  return new WharfError(error.code, error.message, {
    cause: error.cause ?? error,
    details: { ...error.details, challenge },
  });
}

/**
 * The challenge headers for a 401: `WWW-Authenticate` (RFC 6750: `error="invalid_token"` for a Bearer
 * token that was presented but refused, malformed ones included; `error="invalid_request"` for an
 * Authorization header of another scheme) plus the challenge's extra headers.
 *
 * @example
 * challengeHeaders({ scheme: "Basic", realm: "wharf" }); // { "WWW-Authenticate": 'Basic realm="wharf"' }
 */
export function challengeHeaders(challenge: Challenge, reason?: string): Record<string, string> {
  const realm = challenge.realm.replace(/["\\]/g, "\\$&");
  let value = `${challenge.scheme} realm="${realm}"`;
  if (challenge.scheme === "Bearer" && reason !== undefined && reason !== "missing") {
    value += reason === "unsupported_scheme" ? ', error="invalid_request"' : ', error="invalid_token"';
  }
  return { "WWW-Authenticate": value, ...challenge.extraHeaders };
}

/**
 * The challenge headers for an error thrown by {@link jwtAuth}, or `undefined` for any other error.
 * Fits http-kit's `errorHeaders` option: `createHttpApp({ errorHeaders: authErrorHeaders, … })`.
 */
export function authErrorHeaders(error: unknown): Record<string, string> | undefined {
  if (!isWharfError(error, "UNAUTHENTICATED")) return undefined;
  const challenge = error.details?.challenge;
  if (!isChallenge(challenge)) return undefined;
  return challengeHeaders(challenge, authFailureReason(error));
}

/**
 * A 401 JSON `{ message }` response with the challenge headers; use as `jwtAuth`'s `onError` when
 * the app has no error table of its own.
 */
export function unauthorizedResponse(error: WharfError, c: Context): Response {
  return c.json({ message: error.message }, 401, authErrorHeaders(error));
}

function isChallenge(value: unknown): value is Challenge {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<Challenge>;
  return (
    (candidate.scheme === "Basic" || candidate.scheme === "Bearer") && typeof candidate.realm === "string"
  );
}
