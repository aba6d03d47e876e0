import { randomUUID } from "node:crypto";
import { WharfError } from "@wharf/errors";
import { type Context, Hono } from "hono";
import { routePath } from "hono/route";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { httpStatusByCode, publicMessage, toWharfError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { type HttpMetrics, scrapedGauge } from "./metrics.ts";
import { type ReadinessOptions, sharedReadiness } from "./readiness.ts";

/** Variables every Wharf HTTP app has on its context. */
export interface HttpVariables {
  log: Logger;
  requestId: string;
}

export interface HttpEnv {
  Variables: HttpVariables;
}

export interface HttpAppOptions {
  readonly logger: Logger;
  readonly metrics: HttpMetrics;
  /**
   * Readiness check for `/healthz` (and the `<prefix>_ready` gauge): throw or return false when this
   * replica should get no traffic (store unreachable; shutting down is `stopping`'s). `/livez` never calls it: a store
   * outage must not make an orchestrator restart a healthy process.
   */
  readonly ready?: () => Promise<boolean> | boolean;
  /** How long `/healthz` waits for a slow `ready` check (see {@link sharedReadiness}). */
  readonly readiness?: ReadinessOptions;
  /** True once the process shuts down: not ready at once, whatever the last store check said. */
  readonly stopping?: () => boolean;
  /** Shapes an error response body; the default is `{ message, code, request_id }`. */
  readonly errorBody?: (error: WharfError, message: string, requestId: string) => unknown;
  /** The status for an error, when the protocol departs from {@link httpStatusByCode} (e.g. LFS's 422). */
  readonly statusFor?: (error: WharfError) => number;
  /** Extra headers for an error response (e.g. challenges for 401, or another JSON Content-Type). */
  readonly errorHeaders?: (error: WharfError) => Record<string, string> | undefined;
  /** Where `/healthz` and `/metrics` live; default the root. */
  readonly opsPrefix?: string;
}

const requestIdPattern = /^[\w.:-]{1,128}$/;

/**
 * A hono app with the parts every Wharf HTTP service shares: request ids (`X-Request-Id`), a child
 * logger per request, Prometheus metrics, `/healthz` (readiness), `/livez` (liveness), `/metrics`, JSON 404s, and `onError` as the one
 * place where errors become responses (status from {@link httpStatusByCode}).
 */
export function createHttpApp<E extends HttpEnv = HttpEnv>(options: HttpAppOptions): Hono<E> {
  const app = new Hono<E>();
  const ops = options.opsPrefix ?? "";
  const body =
    options.errorBody ??
    ((error, message, requestId) => ({ message, code: error.code, request_id: requestId }));

  app.use(async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && requestIdPattern.test(incoming) ? incoming : randomUUID();
    c.set("requestId", requestId);
    c.set("log", options.logger.child({ requestId }));
    c.header("X-Request-Id", requestId);
    const started = performance.now();
    await next();
    const route = routePath(c) || "unmatched";
    const seconds = (performance.now() - started) / 1000;
    options.metrics.requests.inc({ method: c.req.method, route, status: String(c.res.status) });
    options.metrics.duration.observe({ method: c.req.method, route }, seconds);
    const level = c.res.status >= 500 ? "error" : "info";
    c.var.log[level](
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(seconds * 1000),
        ...refusalFields(c.res.status, c.error),
      },
      "request",
    );
  });

  const { ready, stopping } = options;
  const storeReady = ready ? sharedReadiness(ready, options.readiness) : async () => true;
  const isReady = async () => !stopping?.() && (await storeReady());
  scrapedGauge(
    options.metrics,
    "ready",
    "1 when this replica is ready for traffic (store reachable, not draining), else 0",
    async () => ((await isReady()) ? 1 : 0),
    5_000,
  );

  app.get(`${ops}/healthz`, async (c) => {
    const ok = await isReady();
    return c.json({ status: ok ? "ok" : "unavailable" }, ok ? 200 : 503);
  });

  app.get(`${ops}/livez`, (c) => c.json({ status: "ok" }));

  app.get(`${ops}/metrics`, async (c) => {
    return c.body(await options.metrics.registry.metrics(), 200, {
      "Content-Type": options.metrics.registry.contentType,
    });
  });

  app.notFound((c) => errorResponse(c, toWharfError(notFound(c.req.path))));
  app.onError((err, c) => errorResponse(c, toWharfError(err)));

  function errorResponse(c: Context<E>, error: WharfError): Response {
    const status = (options.statusFor?.(error) ?? httpStatusByCode[error.code]) as ContentfulStatusCode;
    const requestId = c.get("requestId") ?? "";
    if (status >= 500) c.get("log")?.error({ err: error.cause ?? error, code: error.code }, error.message);
    // A 503 is an outage (the store, LDAP, a draining replica): tell clients when to come back.
    const retry: Record<string, string> = status === 503 ? { "Retry-After": "5" } : {};
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      ...retry,
      ...options.errorHeaders?.(error),
    };
    return c.body(JSON.stringify(body(error, publicMessage(error), requestId)), status, headers);
  }

  return app;
}

/**
 * Why a 401, 403 or 429 was answered, for the request's log line: the error's `details.reason` (a
 * verifier's `expired`, `bad_signature`, …, or the app's own) and its message, which is written for
 * the client and so names no secret. The error is hono's `c.error`, set by `onError`; a handler or
 * middleware that answers a refusal itself sets `c.error` too.
 */
function refusalFields(status: number, error: Error | undefined): Record<string, string> {
  if ((status !== 401 && status !== 403 && status !== 429) || error === undefined) return {};
  const refusal = toWharfError(error);
  const reason = refusal.details?.reason;
  return {
    code: refusal.code,
    reason: typeof reason === "string" ? reason : refusal.code.toLowerCase(),
    why: publicMessage(refusal),
  };
}

function notFound(path: string): WharfError {
  return new WharfError("NOT_FOUND", `no resource at ${path}`);
}
