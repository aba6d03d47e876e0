import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** Stops accepting, lets in-flight requests finish, then closes what is left after `graceMs`. */
  close(graceMs?: number): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

type FetchHandler = (request: Request, env?: unknown) => Response | Promise<Response>;

/** Listens with @hono/node-server on `host:port` (port 0 picks a free one). */
export async function serveHttp(
  fetch: FetchHandler,
  options: { port: number; host: string; serverOptions?: Record<string, unknown> },
): Promise<RunningServer> {
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch, port: options.port, hostname: options.host, ...options.serverOptions }, () =>
      resolve(s),
    );
    s.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  const close = async (graceMs = 10_000) => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    if ("closeIdleConnections" in server) server.closeIdleConnections();
    const timer = setTimeout(() => {
      if ("closeAllConnections" in server) server.closeAllConnections();
    }, graceMs);
    await closed;
    clearTimeout(timer);
  };
  return { url: `http://${host}:${port}`, port, close, [Symbol.asyncDispose]: () => close(1000) };
}
