import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { WharfError } from "@wharf/errors";
import type { HttpVariables } from "@wharf/http-kit";
import type { Context } from "hono";
import { lfsError, lfsMediaType } from "./lfs-error.ts";

/** The app's hono environment: http-kit's variables, plus the Node request when served by node-server. */
export interface LfsEnv {
  Variables: HttpVariables;
  Bindings: { incoming?: IncomingMessage; outgoing?: ServerResponse };
}

export type LfsContext = Context<LfsEnv>;

const acceptable =
  /(^|,)\s*(application\/vnd\.git-lfs\+json|application\/json|application\/\*|\*\/\*)\s*(;|,|$)/i;

/** 406 unless the client accepts the LFS media type (or sends no Accept at all). */
export function checkAccept(c: LfsContext): void {
  const accept = c.req.header("accept");
  if (accept !== undefined && accept.trim() !== "" && !acceptable.test(accept))
    throw lfsError(
      "INVALID_ARGUMENT",
      406,
      `responses are ${lfsMediaType}; the Accept header does not allow it`,
    );
}

/** Reads a JSON request body of at most `maxBytes`: 413 beyond it, 422 when it is not JSON. */
export async function readJson(c: LfsContext, maxBytes: number): Promise<unknown> {
  const tooLarge = () =>
    lfsError("PAYLOAD_TOO_LARGE", 413, `request bodies are limited to ${maxBytes} bytes`);
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge();
  const text = (await collect(requestBody(c), maxBytes, tooLarge)).toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new WharfError("INVALID_ARGUMENT", "the request body is not valid JSON");
  }
}

/**
 * A small body's bytes, read through the stream's events: an async iterator over the request costs
 * more than the rest of a verify call. Past `maxBytes` the rest is drained unread and `tooLarge()`
 * rejects, so the connection stays usable for the error response.
 */
function collect(body: Readable, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    // A later error of a body we stopped reading (a client gone) is nobody's to throw.
    const stop = () =>
      body
        .off("data", data)
        .off("end", end)
        .off("error", failed)
        .off("close", closed)
        .on("error", () => {});
    const data = (chunk: Buffer) => {
      total += chunk.length;
      if (total <= maxBytes) return void chunks.push(chunk);
      stop();
      body.resume();
      reject(tooLarge());
    };
    const end = () => {
      stop();
      resolve(Buffer.concat(chunks, total));
    };
    const failed = (error: Error) => {
      stop();
      reject(error);
    };
    const closed = () => {
      if (!body.readableEnded) failed(new WharfError("CANCELLED", "the client went away mid-request"));
    };
    if (body.readableEnded) return resolve(Buffer.alloc(0));
    body.on("data", data).once("end", end).once("error", failed).once("close", closed);
  });
}

/** The request body as a Node stream: the raw socket stream under node-server, else the web stream. */
export function requestBody(c: LfsContext): Readable {
  const incoming = c.env?.incoming;
  if (incoming) return incoming;
  const body = c.req.raw.body;
  return body
    ? Readable.fromWeb(body as import("node:stream/web").ReadableStream<Uint8Array>)
    : Readable.from([]);
}

/** A JSON response with the LFS media type. */
export function lfsJson(c: LfsContext, body: unknown, status: 200 | 201 = 200): Response {
  return c.body(JSON.stringify(body), status, { "Content-Type": lfsMediaType });
}

/** The base URL links are built on: `PUBLIC_URL`, else the origin the client used. */
export function baseUrlOf(c: LfsContext, publicUrl: string | undefined): string {
  return publicUrl ?? new URL(c.req.url).origin;
}

/** The app's fetch for `serveHttp`: node-server passes `{ incoming, outgoing }` as the env. */
export function nodeFetch(app: {
  fetch: (request: Request, env?: LfsEnv["Bindings"]) => Response | Promise<Response>;
}) {
  return (request: Request, env?: unknown) => app.fetch(request, env as LfsEnv["Bindings"] | undefined);
}
