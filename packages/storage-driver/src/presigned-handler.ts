import { Readable } from "node:stream";
import { type ErrorCode, isWharfError, WharfError } from "@wharf/errors";
import { verifyPresignedUrl } from "@wharf/s3-signing";
import type { FsPresignOptions } from "./drivers/fs/fs.ts";
import { validateKey } from "./keys.ts";
import type { ByteRange, ObjectInfo, StorageDriver } from "./types.ts";

const statusByCode: Readonly<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PRECONDITION_FAILED: 412,
  CHECKSUM_MISMATCH: 400,
  RANGE_NOT_SATISFIABLE: 416,
  PAYLOAD_TOO_LARGE: 413,
  QUOTA_EXCEEDED: 507,
  UNSUPPORTED: 501,
  UNAVAILABLE: 503,
  CANCELLED: 400,
  INTERNAL: 500,
};

const s3CodeByCode: Partial<Record<ErrorCode, string>> = {
  NOT_FOUND: "NoSuchKey",
  PERMISSION_DENIED: "AccessDenied",
  PRECONDITION_FAILED: "PreconditionFailed",
  CHECKSUM_MISMATCH: "BadDigest",
  RANGE_NOT_SATISFIABLE: "InvalidRange",
  PAYLOAD_TOO_LARGE: "EntityTooLarge",
  INVALID_ARGUMENT: "InvalidArgument",
};

function xmlEscape(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** An S3-style XML error; 5xx messages never echo internals. */
function errorResponse(error: unknown, head: boolean): Response {
  const wharf = isWharfError(error) ? error : new WharfError("INTERNAL", "internal error", { cause: error });
  const status = statusByCode[wharf.code];
  const code = (wharf.details?.s3Code as string | undefined) ?? s3CodeByCode[wharf.code] ?? "InternalError";
  const message = status >= 500 ? "internal error" : wharf.message;
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`;
  return new Response(head ? null : body, { status, headers: { "content-type": "application/xml" } });
}

function parseRange(header: string | null): ByteRange | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return undefined;
  if (match[1] === "") return { suffix: Number(match[2]) };
  return match[2] === "" ? { start: Number(match[1]) } : { start: Number(match[1]), end: Number(match[2]) };
}

function objectHeaders(info: ObjectInfo): Headers {
  const headers = new Headers({
    etag: `"${info.etag}"`,
    "last-modified": info.lastModified.toUTCString(),
    "accept-ranges": "bytes",
    "content-type": info.contentType ?? "application/octet-stream",
  });
  for (const [name, value] of Object.entries(info.metadata)) {
    if (/^[\x20-\x7e]*$/.test(value)) headers.set(`x-amz-meta-${name}`, value);
  }
  return headers;
}

/**
 * Serves presigned GET, HEAD (with Range) and PUT requests onto a driver, after checking the
 * SigV4 query signature with `@wharf/s3-signing`. Framework-neutral: mount it on the route whose
 * public URL is `presign.baseUrl`, so local disk offers the same presigned flow as S3.
 *
 * @example
 * app.all("/storage/*", (c) => handlePresignedRequest(storage, c.req.raw, presignOptions));
 */
export async function handlePresignedRequest(
  driver: StorageDriver,
  request: Request,
  presign: FsPresignOptions,
): Promise<Response> {
  const method = request.method.toUpperCase();
  const head = method === "HEAD";
  try {
    if (method !== "GET" && method !== "HEAD" && method !== "PUT") {
      return new Response(null, { status: 405, headers: { allow: "GET, HEAD, PUT" } });
    }
    const base = new URL(presign.baseUrl);
    const pathPrefix = base.pathname.endsWith("/") ? base.pathname : `${base.pathname}/`;
    const verified = verifyPresignedUrl({
      method,
      url: request.url,
      headers: request.headers,
      getSecret: (id) =>
        id === presign.credentials.accessKeyId ? presign.credentials.secretAccessKey : undefined,
      ...(presign.region === undefined ? {} : { region: presign.region }),
      pathPrefix,
    });
    validateKey(verified.key);
    if (method === "PUT") {
      const length = request.headers.get("content-length");
      const size = verified.contentLength ?? (length === null ? undefined : Number(length));
      const sha256 =
        verified.payloadSha256 ??
        (verified.checksumSha256 === undefined
          ? undefined
          : Buffer.from(verified.checksumSha256, "base64").toString("hex"));
      const contentType = verified.contentType ?? request.headers.get("content-type") ?? undefined;
      const body = request.body ? Readable.fromWeb(request.body as never) : "";
      const info = await driver.put(verified.key, body, {
        ...(size === undefined || Number.isNaN(size) ? {} : { size }),
        ...(sha256 === undefined ? {} : { sha256 }),
        ...(contentType === undefined ? {} : { contentType }),
        ...(request.signal ? { signal: request.signal } : {}),
      });
      return new Response(null, { status: 200, headers: { etag: `"${info.etag}"` } });
    }
    if (head) {
      const info = await driver.head(verified.key);
      const headers = objectHeaders(info);
      headers.set("content-length", String(info.size));
      return new Response(null, { status: 200, headers });
    }
    const range = parseRange(request.headers.get("range"));
    const result = await driver.get(verified.key, range ? { range } : {});
    const headers = objectHeaders(result.info);
    const disposition = verified.query["response-content-disposition"];
    if (disposition !== undefined) headers.set("content-disposition", disposition);
    const body = Readable.toWeb(result.body) as unknown as ReadableStream<Uint8Array>;
    if (result.range) {
      const { start, end, total } = result.range;
      headers.set("content-range", `bytes ${start}-${end}/${total}`);
      headers.set("content-length", String(end - start + 1));
      return new Response(body, { status: 206, headers });
    }
    headers.set("content-length", String(result.info.size));
    return new Response(body, { status: 200, headers });
  } catch (error) {
    return errorResponse(error, head);
  }
}
