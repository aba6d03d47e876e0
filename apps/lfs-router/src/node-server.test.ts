import { createLogger, createMetrics, serveHttp } from "@wharf/http-kit";
import { createMemoryDriver } from "@wharf/storage-driver";
import { describe, expect, it } from "vitest";
import { createApp } from "./app.ts";
import { nodeFetch } from "./http.ts";
import { basic, blob, lfsHeaders, testConfig, token, verifyPath } from "./test-support.ts";

interface Action {
  href: string;
}

/** The router under @hono/node-server, where downloads bypass hono and stream to the socket. */
async function served() {
  const lines: { status?: number; path?: string; msg?: string }[] = [];
  const logger = createLogger({
    name: "lfs-router",
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  const metrics = createMetrics({ prefix: "lfs_router", defaultMetrics: false });
  const driver = createMemoryDriver();
  const app = createApp({ config: testConfig(), driver, mode: "proxy", logger, metrics });
  const server = await serveHttp(nodeFetch(app), { port: 0, host: "127.0.0.1" });
  return { server, lines, driver };
}

describe("downloads under node-server", () => {
  it("logs and counts a ranged download as 206 and a whole one as 200", async () => {
    const { server, lines, driver } = await served();
    await using _ = server;
    const b = blob("0123456789 a small object");
    await driver.put(`org/repo/${b.oid.slice(0, 2)}/${b.oid.slice(2, 4)}/${b.oid}`, b.data);
    const auth = basic("bob", await token("bob", "org/repo:read"));
    const batch = await fetch(`${server.url}/org/repo/info/lfs/objects/batch`, {
      method: "POST",
      headers: { ...lfsHeaders, Authorization: auth },
      body: JSON.stringify({ operation: "download", objects: [{ oid: b.oid, size: b.size }] }),
    });
    const { objects } = (await batch.json()) as { objects: { actions: { download: Action } }[] };
    const href = objects[0]?.actions.download.href ?? "";

    const partial = await fetch(href, { headers: { Range: "bytes=2-5" } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get("content-range")).toBe(`bytes 2-5/${b.size}`);
    expect(await partial.text()).toBe("2345");
    const whole = await fetch(href);
    expect(whole.status).toBe(200);
    expect(await whole.text()).toBe(b.data.toString());

    const text = await (await fetch(`${server.url}/metrics`)).text();
    const route = "/:repo{.+}/info/lfs/objects/:oid";
    expect(text).toContain(`lfs_router_http_requests_total{method="GET",route="${route}",status="206"} 1`);
    expect(text).toContain(`lfs_router_http_requests_total{method="GET",route="${route}",status="200"} 1`);
    const downloads = lines.filter((l) => l.msg === "request" && l.path?.endsWith(`/objects/${b.oid}`));
    expect(downloads.map((l) => l.status)).toEqual([206, 200]);
  });
});

describe("request bodies under node-server", () => {
  it("answers 413 with a JSON body to a streamed batch body over the limit, and keeps serving", async () => {
    const { server } = await served();
    await using _ = server;
    const auth = basic("bob", await token("bob", "org/repo:write"));
    const chunk = new Uint8Array(1024 * 1024).fill(32);
    let sent = 0;
    // No Content-Length: the router finds out while reading.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 9) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const tooLarge = await fetch(`${server.url}/org/repo/info/lfs/objects/batch`, {
      method: "POST",
      headers: { ...lfsHeaders, Authorization: auth },
      body,
      duplex: "half",
    } as RequestInit);
    expect(tooLarge.status).toBe(413);
    expect(((await tooLarge.json()) as { message: string }).message).toMatch(/limited to/);

    const b = blob("still serving");
    const batch = await fetch(`${server.url}/org/repo/info/lfs/objects/batch`, {
      method: "POST",
      headers: { ...lfsHeaders, Authorization: auth },
      body: JSON.stringify({ operation: "upload", objects: [{ oid: b.oid, size: b.size }] }),
    });
    expect(batch.status).toBe(200);
    const { objects } = (await batch.json()) as { objects: { actions: { upload: Action } }[] };
    const actions = objects[0]?.actions;
    expect((await fetch(actions?.upload.href ?? "", { method: "PUT", body: b.data })).status).toBe(200);
    const verified = await fetch(`${server.url}${verifyPath("org/repo", b)}`, {
      method: "POST",
      headers: lfsHeaders,
      body: JSON.stringify({ oid: b.oid, size: b.size }),
    });
    expect(verified.status).toBe(200);
    expect(await verified.json()).toEqual({ oid: b.oid, size: b.size });
  });
});
