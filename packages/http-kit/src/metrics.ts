import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export interface HttpMetrics {
  /** The metric name prefix (`lfs_router`, `bitstore`, …). */
  readonly prefix: string;
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
  return { prefix: options.prefix, registry, requests, duration };
}

/**
 * A gauge whose value is computed when Prometheus scrapes: `count` runs at most once per `cacheMs`
 * (a scrape must not list a bucket every few seconds), and a failing `count` reports NaN, "unknown",
 * for that scrape (the readiness gauge reports the outage). Used for the stale multipart uploads the
 * alerting rules watch.
 *
 * @example
 * scrapedGauge(metrics, "stale_multipart_uploads", "…", () => countStale(driver), 300_000);
 */
export function scrapedGauge(
  metrics: HttpMetrics,
  name: string,
  help: string,
  count: () => Promise<number>,
  cacheMs = 60_000,
): Gauge {
  let last: { at: number; value: number } | undefined;
  const fullName = `${metrics.prefix}_${name}`;
  // The newest app built on a registry owns the gauge (tests build several apps on one registry).
  metrics.registry.removeSingleMetric(fullName);
  return new Gauge({
    name: fullName,
    help,
    registers: [metrics.registry],
    async collect() {
      if (last === undefined || Date.now() - last.at >= cacheMs) {
        try {
          last = { at: Date.now(), value: await count() };
        } catch {
          this.set(Number.NaN);
          return;
        }
      }
      this.set(last.value);
    },
  });
}
