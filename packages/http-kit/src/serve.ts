import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** True from the start of {@link RunningServer.drain} on. */
  readonly draining: boolean;
  /** Stops accepting, lets in-flight requests finish, then closes what is left after `graceMs`. */
  close(graceMs?: number): Promise<void>;
  /**
   * The drain for a replica behind a load balancer: for `delayMs` it goes on serving, but its readiness
   * path answers 503 and every response closes its connection, so that the balancer's health checks
   * take it out and no request is sent on a connection the replica is about to close; then
   * {@link RunningServer.close}. With `delayMs` 0 it is `close` alone.
   */
  drain(delayMs: number, graceMs?: number): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

type FetchHandler = (request: Request, env?: unknown) => Response | Promise<Response>;

/**
 * How long an idle keep-alive connection stays open (Node's default is 5 s). Longer than the idle
 * timeouts of the balancers in front (HAProxy purges idle server connections every 5 s by default,
 * AWS ALB after 60 s), so the balancer, not the app, closes an idle connection: otherwise a request
 * the balancer sends on a connection the app is closing at that moment gets no answer ("other side
 * closed"), and a POST is not retried. At shutdown the drain ({@link RunningServer.drain}) closes them.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * Listens with @hono/node-server on `host:port` (port 0 picks a free one). `readinessPath` (default
 * `/healthz`) is the path a draining server answers 503 itself.
 */
export async function serveHttp(
  fetch: FetchHandler,
  options: { port: number; host: string; serverOptions?: Record<string, unknown>; readinessPath?: string },
): Promise<RunningServer> {
  let draining = false;
  const readinessPath = options.readinessPath ?? "/healthz";
  const served: FetchHandler = (request, env) => {
    if (draining && request.method === "GET" && new URL(request.url).pathname === readinessPath)
      return Response.json({ status: "draining" }, { status: 503, headers: { "Retry-After": "5" } });
    return fetch(request, env);
  };
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve(
      { fetch: served, port: options.port, hostname: options.host, ...options.serverOptions },
      () => resolve(s),
    );
    s.once("error", reject);
  });
  if ("keepAliveTimeout" in server) {
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    // Node's advice: a request's headers may take longer than the idle wait before them.
    server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  }
  // While draining, each response ends its connection (`Connection: close`): a balancer then opens a
  // new one for its next request, to a replica that is still in, instead of reusing one this replica
  // closes. First in line: node-server may answer within its own listener.
  server.prependListener("request", (_req, res: { setHeader(name: string, value: string): unknown }) => {
    if (draining) res.setHeader("Connection", "close");
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  const close = async (graceMs = 10_000) => {
    draining = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    if ("closeIdleConnections" in server) server.closeIdleConnections();
    const timer = setTimeout(() => {
      if ("closeAllConnections" in server) server.closeAllConnections();
    }, graceMs);
    await closed;
    clearTimeout(timer);
  };
  const drain = async (delayMs: number, graceMs?: number) => {
    draining = true;
    // Idle keep-alive connections stay open until the delay's end: closed now, one could end just as the
    // balancer, which still counts this replica in, sends a request on it.
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    await close(graceMs);
  };
  return {
    url: `http://${host}:${port}`,
    port,
    get draining() {
      return draining;
    },
    close,
    drain,
    [Symbol.asyncDispose]: () => close(1000),
  };
}
