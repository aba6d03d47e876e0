import { extractCredentials } from "@wharf/auth-jwt";
import { WharfError } from "@wharf/errors";
import { createHttpApp, type HttpEnv, type HttpMetrics, type Logger, scrapedGauge } from "@wharf/http-kit";
import { countStaleUploads, type StorageDriver } from "@wharf/storage-driver";
import type { Context } from "hono";
import { cors } from "hono/cors";
import { parseAuthorizeRequest } from "./authorize-request.ts";
import { fileKeys } from "./authorizer.ts";
import type { BitstoreConfig } from "./config.ts";
import { declaredLengthLimit, readLimitedText } from "./json-body.ts";
import { mountLocalS3 } from "./local-s3.ts";
import { type Principal, principalFromClaims, type TokenVerifier } from "./principal.ts";
import type { ProbeReport } from "./probe.ts";
import { createServices, localBucket } from "./services.ts";
import { cacheVerifiedTokens } from "./token-cache.ts";

export interface AppDeps {
  readonly config: BitstoreConfig;
  readonly driver: StorageDriver;
  readonly verifier: TokenVerifier;
  readonly logger: Logger;
  readonly metrics: HttpMetrics;
  /** The start-up probe's findings, once known. */
  readonly probe?: () => ProbeReport | undefined;
  readonly now?: () => Date;
}

/**
 * The largest JSON request body: 64 KiB, plus 4 KiB for each file an `/authorize` may name (a path,
 * a name of up to 1 KiB each, an MD5 and a type); 4 MiB with the default `MAX_FILES_PER_REQUEST`.
 */
export function jsonBodyLimit(maxFiles: number): number {
  return 64 * 1024 + maxFiles * 4 * 1024;
}

/**
 * DataHub bitstore's HTTP surface under `/{SERVICE_NAME}`, plus the S3 stand-in that takes the
 * uploads when the store does not (no `presignedPost`: local disk, Azure Blob, Swift).
 */
export function createApp(deps: AppDeps) {
  const { config } = deps;
  const verifier = cacheVerifiedTokens(deps.verifier, deps.now ? { now: deps.now } : {});
  const services = createServices({ config, driver: deps.driver, ...(deps.now ? { now: deps.now } : {}) });
  const app = createHttpApp<HttpEnv>({
    logger: deps.logger,
    metrics: deps.metrics,
    // DataHub's client (datahub-client) shows `error.message` and nothing else: the same text is nested
    // there, next to the machine-readable top level every Wharf app answers.
    errorBody: (error, message, requestId) => ({
      message,
      code: error.code,
      request_id: requestId,
      error: { code: error.code, message },
    }),
    ready: async () => {
      await deps.driver.list({ prefix: config.statePrefix, limit: 1 });
      return true;
    },
    errorHeaders: (error) =>
      error.code === "UNAUTHENTICATED" ? { "WWW-Authenticate": 'Bearer realm="bitstore"' } : undefined,
  });
  const base = `/${config.serviceName}`;
  // Uploads a client started (multipart authorize) and never completed, older than a day.
  const stale = () => countStaleUploads(deps.driver, { olderThanMs: 24 * 3600_000 });
  scrapedGauge(deps.metrics, "stale_multipart_uploads", "Multipart uploads older than a day", stale, 300_000);

  app.use(
    `${base}/*`,
    cors({
      origin: config.cors.origins === "*" ? (origin) => origin || "*" : [...config.cors.origins],
      credentials: config.cors.credentials,
      allowMethods: ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"],
      allowHeaders: ["Auth-Token", "Content-Type", "Content-MD5", "Authorization"],
      exposeHeaders: ["ETag", "X-Request-Id"],
      maxAge: 600,
    }),
  );

  async function principal(c: Context<HttpEnv>, form?: Record<string, string>): Promise<Principal> {
    const found = extractCredentials(
      { headers: c.req.raw.headers, url: c.req.url, ...(form ? { form } : {}) },
      ["header:Auth-Token", "query:jwt", "form:jwt"],
    );
    if (!found) {
      throw new WharfError("UNAUTHENTICATED", "send a token in the Auth-Token header or the jwt parameter", {
        details: { reason: "missing" },
      });
    }
    const claims = await verifier.verify(found.token);
    return principalFromClaims(claims, config.serviceName);
  }

  async function jsonBody(c: Context<HttpEnv>): Promise<unknown> {
    const type = c.req.header("content-type") ?? "";
    if (type.includes("application/x-www-form-urlencoded") || type.includes("multipart/form-data")) {
      throw new WharfError("INVALID_ARGUMENT", "send the request as application/json");
    }
    // Read outside the try: a body over the limit fails the read, and is answered 413.
    const text = await readLimitedText(c.req.raw, maxJsonBytes, tooLarge);
    try {
      return JSON.parse(text);
    } catch {
      throw new WharfError("INVALID_ARGUMENT", "the body is not valid JSON");
    }
  }

  // JSON bodies: 413 for a declared Content-Length over the limit before a byte is read, and a
  // chunked body is cut off as it passes the limit (a whole body was read into memory before).
  const maxJsonBytes = jsonBodyLimit(config.maxFilesPerRequest);
  const tooLarge = () =>
    new WharfError("PAYLOAD_TOO_LARGE", `request bodies are limited to ${maxJsonBytes} bytes`);
  const jsonLimit = declaredLengthLimit(maxJsonBytes, tooLarge);

  const authorize = async (c: Context<HttpEnv>) => {
    const caller = await principal(c);
    const request = parseAuthorizeRequest(await jsonBody(c), { maxFiles: config.maxFilesPerRequest });
    return c.body(await services.authorizer.authorize(caller, request), 200, {
      "Content-Type": "application/json",
    });
  };
  app.post(`${base}/authorize`, jsonLimit, authorize);
  app.post(`${base}/`, jsonLimit, authorize);
  app.post(base, jsonLimit, authorize);

  app.get(`${base}/info`, async (c) => {
    const caller = await principal(c);
    return c.json({ prefixes: services.prefixes(caller.userid) });
  });

  app.get(`${base}/presign`, async (c) => {
    const caller = await principal(c);
    const ownerid = c.req.query("ownerid");
    if (ownerid !== undefined && ownerid !== caller.userid) {
      throw new WharfError("PERMISSION_DENIED", "ownerid does not match the token's user", {
        details: { reason: "owner_mismatch" },
      });
    }
    const url = c.req.query("url");
    const key = c.req.query("key") ?? (url === undefined ? undefined : services.keyFromUrl(url));
    if (key === undefined) {
      throw new WharfError("INVALID_ARGUMENT", "give key, or a url of an object in this bitstore's bucket");
    }
    return c.json({ url: services.presignDownload(caller, key) });
  });

  app.get(`${base}/quota`, async (c) => {
    const caller = await principal(c);
    return c.json(await services.quota.usage(caller.userid));
  });

  app.get(`${base}/probe`, (c) => c.json(deps.probe?.() ?? { status: "not probed" }));

  app.post(`${base}/verify`, jsonLimit, async (c) => {
    const caller = await principal(c);
    const request = parseAuthorizeRequest(await jsonBody(c), { maxFiles: config.maxFilesPerRequest });
    if (caller.userid !== request.owner) {
      throw new WharfError("UNAUTHENTICATED", "metadata.owner does not match the token's user", {
        details: { reason: "owner_mismatch" },
      });
    }
    // No prototype: a file named "__proto__" gets its verdict too.
    const verdicts: Record<string, string> = Object.create(null);
    const keyOf = fileKeys(services.keyPattern, request);
    for (const file of request.files) {
      const key = keyOf(file);
      verdicts[file.path] = await services.verifier.verify({ key, md5: file.md5, length: file.length });
    }
    return c.json({ filedata: verdicts });
  });

  app.get(`${base}/verify/:token`, async (c) => {
    const file = services.redirectTokens.open(c.req.param("token"));
    const verdict = await services.verifier.verify(file);
    if (verdict !== "ok") {
      throw new WharfError(
        "CHECKSUM_MISMATCH",
        `the upload of ${file.key} did not match its declared MD5 and size`,
        {
          details: { verdict },
        },
      );
    }
    return c.json({ key: file.key, verdict });
  });

  const multipartCall = async (c: Context<HttpEnv>) => {
    const caller = await principal(c);
    const body = (c.req.method === "GET" ? c.req.query() : await jsonBody(c)) as Record<string, unknown>;
    const key = typeof body.key === "string" ? body.key : "";
    const uploadId = typeof body.upload_id === "string" ? body.upload_id : "";
    return { caller, body, key, uploadId };
  };
  app.post(`${base}/multipart/sign`, jsonLimit, async (c) => {
    const { caller, body, key, uploadId } = await multipartCall(c);
    const requested = Array.isArray(body.parts) ? body.parts : [];
    const parts = requested.map((p) =>
      typeof p === "number" ? { part_number: p } : (p as { part_number: number; md5?: string }),
    );
    return c.json({ parts: await services.multipart.sign(caller, key, uploadId, parts) });
  });
  app.get(`${base}/multipart/parts`, async (c) => {
    const { caller, key, uploadId } = await multipartCall(c);
    const { parts } = await services.multipart.list(caller, key, uploadId);
    return c.json({ parts: parts.map((p) => ({ part_number: p.partNumber, etag: p.etag, size: p.size })) });
  });
  app.post(`${base}/multipart/complete`, jsonLimit, async (c) => {
    const { caller, body, key, uploadId } = await multipartCall(c);
    const claimed = Array.isArray(body.parts)
      ? (body.parts as { part_number: number; etag: string }[]).map((p) => ({
          partNumber: p.part_number,
          etag: String(p.etag),
          size: 0,
        }))
      : undefined;
    const { info } = await services.multipart.complete(caller, key, uploadId, claimed);
    return c.json({ key, etag: info.etag, size: info.size });
  });
  app.post(`${base}/multipart/abort`, jsonLimit, async (c) => {
    const { caller, key, uploadId } = await multipartCall(c);
    const session = await services.multipart.abort(caller, key, uploadId);
    await services.quota.release(caller.userid, session.key).catch(() => undefined);
    return c.json({ key, aborted: true });
  });

  if (services.bucket === undefined) {
    mountLocalS3(app, {
      driver: deps.driver,
      bucketPath: `${base}/s3/${localBucket}`,
      bucket: localBucket,
      region: config.region,
      credentials: config.credentials,
      ...(deps.now ? { now: deps.now } : {}),
    });
  }

  return app;
}
