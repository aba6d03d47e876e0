import { connect } from "node:net";
import { WharfError } from "@wharf/errors";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { createHttpApp } from "./app.ts";
import { ConfigError, parseConfig } from "./config.ts";
import { recordingLogger, silentLogger } from "./logger.ts";
import { createMetrics, scrapedGauge } from "./metrics.ts";
import { serveHttp } from "./serve.ts";

function makeApp(ready?: () => boolean) {
  const app = createHttpApp({
    logger: silentLogger(),
    metrics: createMetrics({ prefix: "t", defaultMetrics: false }),
    ready,
  });
  app.get("/missing", () => {
    throw new WharfError("NOT_FOUND", "no object named x");
  });
  app.get("/boom", () => {
    throw new Error("secret internals: db password in here");
  });
  app.get("/ok", (c) => c.text("fine"));
  return app;
}

describe("createHttpApp", () => {
  it("maps a WharfError to its status with a JSON body carrying the request id", async () => {
    const res = await makeApp().request("/missing", { headers: { "X-Request-Id": "req-1" } });
    expect(res.status).toBe(404);
    expect(res.headers.get("x-request-id")).toBe("req-1");
    expect(await res.json()).toEqual({
      message: "no object named x",
      code: "NOT_FOUND",
      request_id: "req-1",
    });
  });

  it("logs why a 401 or 403 was refused, never the credential (regression: the line said only the status)", async () => {
    const { logger, records } = recordingLogger();
    const app = createHttpApp({ logger, metrics: createMetrics({ prefix: "t", defaultMetrics: false }) });
    app.get("/expired", () => {
      throw new WharfError("UNAUTHENTICATED", "the token has expired", { details: { reason: "expired" } });
    });
    app.get("/denied", () => {
      throw new WharfError("PERMISSION_DENIED", "bob may not write org/repo");
    });
    const token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJl";
    await app.request("/expired", { headers: { Authorization: `Bearer ${token}` } });
    await app.request("/denied");
    await app.request("/nothing");
    const requests = records.filter((r) => r.msg === "request");
    expect(requests).toEqual([
      expect.objectContaining({
        status: 401,
        code: "UNAUTHENTICATED",
        reason: "expired",
        why: "the token has expired",
      }),
      expect.objectContaining({
        status: 403,
        code: "PERMISSION_DENIED",
        reason: "permission_denied",
        why: "bob may not write org/repo",
      }),
      expect.not.objectContaining({ reason: expect.anything() }),
    ]);
    expect(JSON.stringify(records)).not.toContain(token.split(".")[2]);
  });

  it("never echoes internals of an unexpected error", async () => {
    const res = await makeApp().request("/boom");
    expect(res.status).toBe(500);
    const body = (await res.json()) as { message: string; code: string };
    expect(body.code).toBe("INTERNAL");
    expect(body.message).not.toContain("password");
  });

  it("answers unknown routes with a JSON 404", async () => {
    const res = await makeApp().request("/nope");
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe("NOT_FOUND");
  });

  it("tells clients when to retry a 503", async () => {
    const app = makeApp();
    app.get("/down", () => {
      throw new WharfError("UNAVAILABLE", "the store does not answer");
    });
    const res = await app.request("/down");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect((await app.request("/missing")).headers.get("retry-after")).toBeNull();
  });

  it("replaces a malformed incoming request id", async () => {
    const res = await makeApp().request("/ok", {
      headers: { "X-Request-Id": "bad id with spaces;and=more" },
    });
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("reports health from the readiness check", async () => {
    expect((await makeApp(() => true).request("/healthz")).status).toBe(200);
    expect((await makeApp(() => false).request("/healthz")).status).toBe(503);
  });

  it("answers liveness while not ready: a store outage must not get a healthy process restarted", async () => {
    const app = makeApp(() => false);
    expect((await app.request("/livez")).status).toBe(200);
    expect((await app.request("/healthz")).status).toBe(503);
  });

  it("exports readiness as the <prefix>_ready gauge", async () => {
    let ready = false;
    const metrics = createMetrics({ prefix: "t", defaultMetrics: false });
    const app = createHttpApp({ logger: silentLogger(), metrics, ready: () => ready });
    expect(await (await app.request("/metrics")).text()).toMatch(/^t_ready 0$/m);
    ready = true;
    const again = createHttpApp({ logger: silentLogger(), metrics, ready: () => ready });
    expect(await (await again.request("/metrics")).text()).toMatch(/^t_ready 1$/m);
  });

  it("computes a scraped gauge on scrape and reports NaN while the count fails", async () => {
    const metrics = createMetrics({ prefix: "t", defaultMetrics: false });
    let calls = 0;
    let fail = false;
    scrapedGauge(
      metrics,
      "things",
      "things",
      async () => {
        calls++;
        if (fail) throw new Error("store down");
        return 7;
      },
      0,
    );
    expect(await metrics.registry.metrics()).toMatch(/^t_things 7$/m);
    fail = true;
    expect(await metrics.registry.metrics()).toMatch(/^t_things nan$/im);
    expect(calls).toBe(2);
  });

  it("exposes request counters in Prometheus text format", async () => {
    const app = makeApp();
    await app.request("/ok");
    const res = await app.request("/metrics");
    expect(res.headers.get("content-type")).toContain("text/plain");
    expect(await res.text()).toMatch(/t_http_requests_total\{method="GET",route="\/ok",status="200"\} 1/);
  });
});

describe("serveHttp", () => {
  it("serves on a loopback port and closes", async () => {
    await using server = await serveHttp(makeApp().fetch, { port: 0, host: "127.0.0.1" });
    const res = await fetch(`${server.url}/ok`);
    expect(await res.text()).toBe("fine");
  });

  it("keeps an idle keep-alive connection open past Node's 5 s, so a balancer reusing it is answered", async () => {
    await using server = await serveHttp(makeApp().fetch, { port: 0, host: "127.0.0.1" });
    const socket = connect(server.port, "127.0.0.1");
    socket.setEncoding("latin1");
    let received = "";
    let closed = false;
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    socket.on("close", () => {
      closed = true;
    });
    const ask = async () => {
      received = "";
      socket.write("GET /ok HTTP/1.1\r\nHost: wharf\r\n\r\n");
      await vi.waitFor(() => expect(received).toMatch(/\r\n\r\nfine$/), { timeout: 2000 });
    };
    await ask();
    await new Promise((resolve) => setTimeout(resolve, 6000));
    expect(closed).toBe(false);
    await ask();
    socket.destroy();
  }, 15_000);

  it("drains: for the delay it serves on, readiness answers 503 and every response closes its connection; then it stops listening", async () => {
    const server = await serveHttp(makeApp().fetch, { port: 0, host: "127.0.0.1" });
    const before = await fetch(`${server.url}/healthz`);
    expect(before.status).toBe(200);
    expect(before.headers.get("connection")).toBe("keep-alive");
    const drained = server.drain(600);
    expect(server.draining).toBe(true);
    const ready = await fetch(`${server.url}/healthz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: "draining" });
    const ok = await fetch(`${server.url}/ok`);
    expect(await ok.text()).toBe("fine");
    expect(ok.headers.get("connection")).toBe("close");
    await drained;
    await expect(fetch(`${server.url}/ok`)).rejects.toThrow();
  });

  it("drains under a path prefix, and with no delay closes at once", async () => {
    const server = await serveHttp(makeApp().fetch, {
      port: 0,
      host: "127.0.0.1",
      readinessPath: "/x/healthz",
    });
    const started = performance.now();
    await server.drain(0);
    expect(performance.now() - started).toBeLessThan(1000);
    await expect(fetch(`${server.url}/ok`)).rejects.toThrow();
  });
});

describe("parseConfig", () => {
  it("lists every problem at once", () => {
    const schema = z.object({ PORT: z.coerce.number().int().min(1), STORAGE_URL: z.string().min(1) });
    let error: unknown;
    try {
      parseConfig(schema, { PORT: "zero" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toHaveLength(2);
    expect((error as ConfigError).code).toBe("INVALID_ARGUMENT");
  });
});
