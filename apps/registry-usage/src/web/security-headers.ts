import type { MiddlewareHandler } from "hono";

/** No inline script or style anywhere: scripts, styles, images and fetches come from the app only. */
export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Strict security headers on every response (pages, assets, JSON); pages are not cached. */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header("Content-Security-Policy", contentSecurityPolicy);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "same-origin");
    c.header("X-Frame-Options", "DENY");
    // Pages are per user: no shared cache keeps one.
    if (c.res.headers.get("content-type")?.startsWith("text/html")) c.header("Cache-Control", "no-store");
  };
}
