import type { MiddlewareHandler } from "hono";

const utf8 = new TextDecoder();

/**
 * Refuses a request whose declared Content-Length is over `maxBytes` before a byte is read (and
 * before the token is checked), as hono's `bodyLimit` does.
 */
export function declaredLengthLimit(maxBytes: number, tooLarge: () => Error): MiddlewareHandler {
  return async (c, next) => {
    const declared = declaredLength(c.req.raw);
    if (declared !== undefined && declared > maxBytes) throw tooLarge();
    await next();
  };
}

/**
 * A request body of at most `maxBytes` as text, read once: with a declared Content-Length through
 * `text()` (the Node adapter's direct read); without one (chunked) chunk by chunk, cut off with
 * `tooLarge()` as it passes the limit. hono's `bodyLimit` read such a body into a new Request,
 * which was then read a second time.
 */
export async function readLimitedText(
  request: Request,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<string> {
  const declared = declaredLength(request);
  if (declared !== undefined) {
    if (declared > maxBytes) throw tooLarge();
    return request.text();
  }
  if (request.body === null) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Leaving the loop by the throw cancels the stream.
  for await (const chunk of request.body) {
    size += chunk.byteLength;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  // TextDecoder as `text()`: a leading BOM is dropped, bad UTF-8 becomes U+FFFD.
  return utf8.decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
}

/** The Content-Length a body is held to, or `undefined` when none is (absent, or chunked). */
function declaredLength(request: Request): number | undefined {
  const value = request.headers.get("content-length");
  if (value === null || request.headers.has("transfer-encoding")) return undefined;
  return Number.parseInt(value, 10);
}
