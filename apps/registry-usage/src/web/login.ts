import type { AuthEnv } from "@wharf/auth-jwt";
import { isWharfError } from "@wharf/errors";
import type { HttpEnv } from "@wharf/http-kit";
import type { Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { LdapAuthenticator } from "../ldap-auth.ts";
import { esc, page } from "./layout.ts";
import { clearSession, type SessionOptions, safeNext, setSession } from "./session.ts";

/**
 * The shape of auth-jwt's `createLoginGuard` (on the login-defences branch, not on this one yet):
 * pass the guard `/auth_token` uses so both logins share one failure count.
 */
export interface LoginGuard {
  begin(who: {
    readonly address: string;
    readonly user: string;
  }): Promise<
    | { readonly attempt: { succeed(): void; fail(): unknown; release(): void } }
    | { readonly lockout: { readonly until: number } }
  >;
}

export interface LoginOptions {
  readonly session: SessionOptions;
  readonly ldap: LdapAuthenticator;
  /** Issues the same JWT `/auth_token` does. */
  readonly issue: (subject: string) => Promise<string>;
  readonly expiresInSeconds: number;
  /** Failed-login limits shared with `/auth_token`, and the client address they count against. */
  readonly guard?: { readonly guard: LoginGuard; readonly address: (c: Context) => string };
  readonly now?: () => number;
}

function loginForm(prefix: string, next: string, message?: string): string {
  const alert = message ? `<p class="error" role="alert" id="login-error">${esc(message)}</p>` : "";
  return page({
    prefix,
    title: "Log in",
    body: `<h1>Log in</h1>${alert}<form class="login" method="post" action="${prefix}/login"${message ? ' aria-describedby="login-error"' : ""}>
<input type="hidden" name="next" value="${esc(next)}">
<label for="username">User name</label><input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Log in</button></form>`,
  });
}

/**
 * A cross-site form post carries a foreign `Origin` (or `Sec-Fetch-Site: cross-site`); browsers
 * send one of them on every POST. Requests with neither (curl) cannot ride a browser's cookie.
 */
function sameOrigin(c: Context): boolean {
  const origin = c.req.header("origin");
  if (origin !== undefined) {
    const host = c.req.header("x-forwarded-host") ?? c.req.header("host") ?? new URL(c.req.url).host;
    try {
      return origin !== "null" && new URL(origin).host === host;
    } catch {
      return false;
    }
  }
  const site = c.req.header("sec-fetch-site");
  return site === undefined || site === "same-origin" || site === "none";
}

const crossSite = (c: Context) =>
  c.json({ message: "cross-site request refused", code: "PERMISSION_DENIED" }, 403);

/** `GET/POST /login` (LDAP → the API's JWT in an HttpOnly cookie) and `POST /logout`. */
export function registerLogin(app: Hono<HttpEnv & AuthEnv>, prefix: string, options: LoginOptions): void {
  app.get(`${prefix}/login`, (c) => c.html(loginForm(prefix, safeNext(prefix, c.req.query("next")))));

  app.post(`${prefix}/login`, bodyLimit({ maxSize: 8 * 1024 }), async (c) => {
    if (!sameOrigin(c)) return crossSite(c);
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const field = (name: string) => (typeof form[name] === "string" ? (form[name] as string) : "");
    const next = safeNext(prefix, field("next"));
    // TODO(login-guard): app.ts passes the /auth_token login guard here once auth-jwt's
    // createLoginGuard is merged; until then failed browser logins are not rate-limited.
    const admission = await options.guard?.guard.begin({
      address: options.guard.address(c),
      user: field("username").toLowerCase(),
    });
    if (admission && "lockout" in admission) {
      const seconds = Math.max(1, Math.ceil((admission.lockout.until - (options.now ?? Date.now)()) / 1000));
      const message = `Too many failed logins: try again in ${Math.ceil(seconds / 60)} minute(s).`;
      return c.html(loginForm(prefix, next, message), 429, { "Retry-After": String(seconds) });
    }
    const attempt = admission?.attempt;
    let subject: string;
    try {
      subject = await options.ldap.authenticate(field("username"), field("password"));
    } catch (error) {
      if (isWharfError(error, "UNAVAILABLE")) {
        attempt?.release();
        c.var.log.error({ err: error.cause ?? error }, "LDAP unavailable");
        return c.html(loginForm(prefix, next, "The LDAP server is unavailable, try again later."), 503);
      }
      attempt?.fail();
      c.var.log.info({ reason: isWharfError(error) ? error.details?.reason : undefined }, "login refused");
      return c.html(loginForm(prefix, next, "Wrong user name or password."), 401);
    }
    attempt?.succeed();
    setSession(c, await options.issue(subject), options.expiresInSeconds, options.session);
    return c.redirect(next, 303);
  });

  app.post(`${prefix}/logout`, (c) => {
    if (!sameOrigin(c)) return crossSite(c);
    clearSession(c, options.session);
    return c.redirect(`${prefix}/login`, 303);
  });
}
