import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

export interface HttpMetrics {
  readonly registry: Registry;
  readonly requests: Counter<"method" | "route" | "status">;
  readonly duration: Histogram<"method" | "route">;
}

/** A private Prometheus registry with process metrics and the HTTP request counters every app exports. */
export function createMetrics(options: { prefix: string; defaultMetrics?: boolean }): HttpMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false)
    collectDefaultMetrics({ register: registry, prefix: `${options.prefix}_` });
  const requests = new Counter({
    name: `${options.prefix}_http_requests_total`,
    help: "HTTP requests answered, by method, route and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${options.prefix}_http_request_duration_seconds`,
    help: "Time to the response head, by method and route",
    labelNames: ["method", "route"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return { registry, requests, duration };
}
