import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { isWharfError, WharfError } from "@wharf/errors";
import type { StorageDriver } from "@wharf/storage-driver";
import type { Hono } from "hono";
import { type LfsContext, type LfsEnv, lfsJson, readJson, requestBody } from "./http.ts";
import { isOid, type Layout, parseRepo } from "./layout.ts";
import type { LinkSigner } from "./links.ts";
import { parseRange } from "./range.ts";
import type { Transfers } from "./transfers.ts";

export interface ObjectRoutesDeps {
  readonly driver: StorageDriver;
  readonly layout: Layout;
  readonly links: LinkSigner;
  readonly transfers: Transfers;
}

function target(c: LfsContext) {
  const repo = parseRepo(c.req.param("repo") ?? "");
  const oid = c.req.param("oid") ?? "";
  if (!isOid(oid)) throw new WharfError("NOT_FOUND", "no such object");
  // Only the query: parsing the whole URL again costs more than the rest of this function.
  const url = c.req.url;
  const at = url.indexOf("?");
  return { repo, oid, query: new URLSearchParams(at === -1 ? "" : url.slice(at + 1)) };
}

/** The router's own transfer endpoints (proxy mode) and the verify action (every mode). */
export function mountObjectRoutes(app: Hono<LfsEnv>, deps: ObjectRoutesDeps): void {
  const { driver, layout, links } = deps;

  app.put("/:repo{.+}/info/lfs/objects/:oid", async (c) => {
    const { repo, oid, query } = target(c);
    const { size } = links.verify({ method: "PUT", repo, oid }, query);
    const length = c.req.header("content-length");
    if (length !== undefined && Number(length) !== size)
      throw new WharfError("INVALID_ARGUMENT", `the body must be exactly ${size} bytes`);
    const body = requestBody(c);
    try {
      await deps.transfers.receive({ repo, oid, size }, body);
    } catch (error) {
      body.resume();
      throw error;
    }
    return c.body(null, 200);
  });

  const download = async (c: LfsContext) => {
    const { repo, oid, query } = target(c);
    links.verify({ method: "GET", repo, oid }, query);
    const key = layout.objectKey(repo, oid);
    if (c.req.method === "HEAD") {
      const info = await driver.head(key);
      return c.body(null, 200, headersFor(info.size, info.etag));
    }
    // A store without range reads serves the whole object, 200, as HTTP lets a server ignore Range.
    const range = driver.capabilities.rangeRead ? parseRange(c.req.header("range")) : undefined;
    let result: Awaited<ReturnType<StorageDriver["get"]>>;
    try {
      result = await driver.get(key, range ? { range } : {});
    } catch (error) {
      if (!isWharfError(error, "RANGE_NOT_SATISFIABLE")) throw error;
      const info = await driver.head(key);
      return c.body(null, 416, { "Content-Range": `bytes */${info.size}` });
    }
    const { status, headers } = result.range
      ? {
          status: 206 as const,
          headers: {
            ...headersFor(result.range.end - result.range.start + 1, result.info.etag),
            "Content-Range": `bytes ${result.range.start}-${result.range.end}/${result.range.total}`,
          },
        }
      : { status: 200 as const, headers: headersFor(result.info.size, result.info.etag) };
    const outgoing = c.env?.outgoing;
    if (!outgoing) return c.body(Readable.toWeb(result.body) as unknown as ReadableStream, status, headers);
    // Under node-server, stream the store's Node stream straight to the socket (no web-stream hop).
    outgoing.writeHead(status, { ...headers, "X-Request-Id": c.var.requestId });
    await pipeline(result.body, outgoing).catch((error: unknown) => {
      c.var.log.warn({ err: error, oid }, "download interrupted");
    });
    return alreadySent(status);
  };
  app.get("/:repo{.+}/info/lfs/objects/:oid", download);
  app.on("HEAD", "/:repo{.+}/info/lfs/objects/:oid", download);

  app.post("/:repo{.+}/info/lfs/objects/:oid/verify", async (c) => {
    const { repo, oid, query } = target(c);
    const { size, nonce } = links.verify({ method: "POST", repo, oid }, query);
    const body = (await readJson(c, 64 * 1024)) as { oid?: unknown; size?: unknown } | null;
    if (typeof body !== "object" || body === null || body.oid !== oid || body.size !== size)
      throw new WharfError("INVALID_ARGUMENT", "the verify body must name the object this link is for");
    await deps.transfers.verify({ repo, oid, size }, nonce);
    return lfsJson(c, { oid, size });
  });
}

/**
 * What the handler returns once it wrote the response to the socket itself: node-server sends
 * nothing more, and the real status (206 for a range) is what the request log and metrics see.
 */
function alreadySent(status: number): Response {
  const response = new Response(null, { status, headers: RESPONSE_ALREADY_SENT.headers });
  // node-server's lightweight Response would be written out from its cache, ignoring the
  // already-sent header; reading `body` turns it into a plain Response that node-server skips.
  void response.body;
  return response;
}

function headersFor(length: number, etag: string): Record<string, string> {
  return {
    "Content-Type": "application/octet-stream",
    "Content-Length": String(length),
    "Accept-Ranges": "bytes",
    ETag: `"${etag}"`,
  };
}
