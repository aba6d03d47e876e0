import type { AuthEnv, Verifier } from "@wharf/auth-jwt";
import { isWharfError } from "@wharf/errors";
import type { HttpEnv } from "@wharf/http-kit";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { wantsHtml } from "../html.ts";

/** The browser session cookie: the same JWT `/auth_token` issues. */
export const sessionCookie = "registry_usage_session";

export interface SessionOptions {
  readonly prefix: string;
  /** Always mark the cookie `Secure` (behind a TLS-terminating proxy); else only over TLS. */
  readonly secureCookie?: boolean;
}

const cookiePath = (prefix: string) => prefix || "/";

export function overTls(c: Context, options: SessionOptions): boolean {
  return (
    options.secureCookie === true ||
    new URL(c.req.url).protocol === "https:" ||
    c.req.header("x-forwarded-proto")?.split(",")[0]?.trim() === "https"
  );
}

export function setSession(c: Context, token: string, maxAgeSeconds: number, options: SessionOptions): void {
  setCookie(c, sessionCookie, token, {
    path: cookiePath(options.prefix),
    httpOnly: true,
    sameSite: "Strict",
    secure: overTls(c, options),
    maxAge: maxAgeSeconds,
  });
}

export function clearSession(c: Context, options: SessionOptions): void {
  deleteCookie(c, sessionCookie, {
    path: cookiePath(options.prefix),
    httpOnly: true,
    sameSite: "Strict",
    secure: overTls(c, options),
  });
}

/** Where the login page sends the browser back to: a path below the prefix, never another site. */
export function safeNext(prefix: string, next: string | undefined): string {
  const home = `${prefix}/dashboard`;
  if (!next?.startsWith(`${prefix}/`) || next.startsWith("//") || /[\\\u0000-\u001f]/.test(next)) return home;
  return next;
}

export function loginRedirect(c: Context, prefix: string): Response {
  const url = new URL(c.req.url);
  const next = encodeURIComponent(`${url.pathname}${url.search}`);
  return c.redirect(`${prefix}/login?next=${next}`, 303);
}

/**
 * Authentication for pages and the JSON they fetch. A request with an `Authorization` header goes
 * to `bearer` (the API as before). Otherwise a valid session cookie sets the principal; a browser
 * asking for HTML without one (or with an expired one) is sent to the login page; anything else
 * falls to `bearer`, which answers 401.
 */
export function browserSession(options: {
  readonly prefix: string;
  readonly verifier: Verifier;
  readonly bearer: MiddlewareHandler<AuthEnv>;
  readonly session: SessionOptions;
}): MiddlewareHandler<HttpEnv & AuthEnv> {
  return async (c, next) => {
    const token = c.req.header("authorization") ? undefined : getCookie(c, sessionCookie);
    const html = wantsHtml(c.req.header("accept"));
    if (token) {
      try {
        const claims = await options.verifier.verify(token);
        if (claims.type !== "refresh" && typeof claims.sub === "string") {
          c.set("principal", { subject: claims.sub, claims, scopes: [], source: "bearer" });
          return next();
        }
      } catch (error) {
        if (!isWharfError(error, "UNAUTHENTICATED")) throw error;
      }
      if (html) {
        clearSession(c, options.session);
        return loginRedirect(c, options.prefix);
      }
    } else if (html && !c.req.header("authorization")) {
      return loginRedirect(c, options.prefix);
    }
    return options.bearer(c as unknown as Context<AuthEnv>, next);
  };
}
