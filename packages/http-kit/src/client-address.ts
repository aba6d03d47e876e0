import type { Context } from "hono";

/**
 * The TCP peer address of a request served by @hono/node-server (`c.env.incoming`), IPv4-mapped
 * IPv6 addresses as plain IPv4; `"unknown"` elsewhere (e.g. `app.request` in tests without an env).
 * Behind a reverse proxy this is the proxy's address.
 */
export function clientAddress(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  const address = env?.incoming?.socket?.remoteAddress ?? "unknown";
  return address.startsWith("::ffff:") ? address.slice("::ffff:".length) : address;
}
