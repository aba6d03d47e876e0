import { serveHttp } from "@wharf/http-kit";
import { freePort } from "@wharf/test-kit";
import { Hono } from "hono";
import { token } from "./helpers.ts";

export interface DataHubApi extends AsyncDisposable {
  /** The `apiUrl` DataHub's client is given. */
  readonly url: string;
  /** Source specs the client posted to `/source/upload`. */
  readonly specs: Record<string, unknown>[];
}

/**
 * A small stand-in for DataHub's API gateway: `/auth/authorize?service=…` trades the user's token for
 * a service token (as DataHub's auth service does), `/source/upload` records the spec, and
 * everything under `/rawstore/` goes to the bitstore under test.
 */
export async function startDataHubApi(options: { userid: string; bitstore: string }): Promise<DataHubApi> {
  const specs: Record<string, unknown>[] = [];
  const app = new Hono();
  app.get("/auth/authorize", async (c) => {
    if (c.req.header("auth-token") !== "user-login-token") return c.json({}, 401);
    const service = c.req.query("service") ?? "";
    return c.json({ token: await token(options.userid, { claims: { service } }) });
  });
  app.post("/source/upload", async (c) => {
    specs.push(await c.req.json());
    return c.json({ success: true, id: `${options.userid}/ds` });
  });
  app.all("/rawstore/*", async (c) => {
    const url = new URL(c.req.url);
    const method = c.req.method;
    return fetch(`${options.bitstore}${url.pathname}${url.search}`, {
      method,
      headers: c.req.raw.headers,
      ...(method === "GET" || method === "HEAD" ? {} : { body: await c.req.arrayBuffer() }),
    });
  });
  const port = await freePort();
  const server = await serveHttp(app.fetch, { port, host: "127.0.0.1" });
  return { url: `http://127.0.0.1:${port}`, specs, [Symbol.asyncDispose]: () => server.close(500) };
}
