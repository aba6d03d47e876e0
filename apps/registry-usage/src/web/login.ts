import type { AuthEnv } from "@wharf/auth-jwt";
import { isWharfError } from "@wharf/errors";
import type { HttpEnv } from "@wharf/http-kit";
import type { Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { LdapAuthenticator } from "../ldap-auth.ts";
import { esc, page } from "./layout.ts";
import { clearSession, type SessionOptions, safeNext, setSession } from "./session.ts";

export interface LoginOptions {
  readonly session: SessionOptions;
  readonly ldap: LdapAuthenticator;
  /** Issues the same JWT `/auth_token` does. */
  readonly issue: (subject: string) => Promise<string>;
  readonly expiresInSeconds: number;
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
    // TODO(login-guard): reuse the /auth_token login guard (per-user/IP failure limit) once it is
    // on this branch; until then failed browser logins are not rate-limited.
    let subject: string;
    try {
      subject = await options.ldap.authenticate(field("username"), field("password"));
    } catch (error) {
      if (isWharfError(error, "UNAVAILABLE")) {
        c.var.log.error({ err: error.cause ?? error }, "LDAP unavailable");
        return c.html(loginForm(prefix, next, "The LDAP server is unavailable, try again later."), 503);
      }
      c.var.log.info({ reason: isWharfError(error) ? error.details?.reason : undefined }, "login refused");
      return c.html(loginForm(prefix, next, "Wrong user name or password."), 401);
    }
    setSession(c, await options.issue(subject), options.expiresInSeconds, options.session);
    return c.redirect(next, 303);
  });

  app.post(`${prefix}/logout`, (c) => {
    if (!sameOrigin(c)) return crossSite(c);
    clearSession(c, options.session);
    return c.redirect(`${prefix}/login`, 303);
  });
}
