import { pipeline, Readable } from "node:stream";
import { Busboy, type BusboyInstance } from "@fastify/busboy";
import type { WharfError } from "@wharf/errors";
import type { HttpEnv } from "@wharf/http-kit";
import { toWharfError } from "@wharf/http-kit";
import { escapeKeyPath, verifyPostPolicy, verifyPresignedUrl } from "@wharf/s3-signing";
import type { StorageDriver } from "@wharf/storage-driver";
import type { Context, Hono } from "hono";
import { stream } from "hono/streaming";
import { BodyCheck, s3Failure } from "./body-check.ts";

export interface LocalS3Options {
  readonly driver: StorageDriver;
  /** Path of the bucket route, e.g. `/rawstore/s3/store`. */
  readonly bucketPath: string;
  readonly bucket: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly now?: () => Date;
}

const ignore = () => {};

const s3StatusByCode: Partial<Record<WharfError["code"], number>> = {
  INVALID_ARGUMENT: 400,
  PAYLOAD_TOO_LARGE: 400,
  CHECKSUM_MISMATCH: 400,
  PERMISSION_DENIED: 403,
  UNAUTHENTICATED: 403,
  NOT_FOUND: 404,
  PRECONDITION_FAILED: 412,
  RANGE_NOT_SATISFIABLE: 416,
};

/**
 * Local-disk mode: bitstore answers like the S3 bucket it stands in for. The POST forms and
 * presigned URLs it hands out point here, and each request is checked with the same SigV4
 * verifiers S3 would apply, then stored atomically through the driver. Errors are S3 XML.
 */
export function mountLocalS3(app: Hono<HttpEnv>, options: LocalS3Options): void {
  const { driver } = options;
  const now = options.now ?? (() => new Date());
  const getSecret = (id: string) =>
    id === options.credentials.accessKeyId ? options.credentials.secretAccessKey : undefined;
  const prefix = `${options.bucketPath}/`;

  app.post(options.bucketPath, (c) => guard(c, () => postUpload(c)));
  app.put(`${prefix}*`, (c) => guard(c, () => putPart(c)));
  app.on(["GET", "HEAD"], `${prefix}*`, (c) => guard(c, () => download(c)));

  function verifyUrl(c: Context<HttpEnv>) {
    const url = new URL(c.req.url);
    return verifyPresignedUrl({
      method: c.req.method,
      url: `${url.pathname}${url.search}`,
      headers: c.req.raw.headers,
      now: now(),
      getSecret,
      region: options.region,
      pathPrefix: prefix,
    });
  }

  async function putPart(c: Context<HttpEnv>): Promise<Response> {
    const verified = verifyUrl(c);
    const partNumber = Number(verified.query.partNumber);
    const uploadId = verified.query.uploadId;
    if (!uploadId || !Number.isInteger(partNumber) || partNumber < 1) {
      throw s3Failure("INVALID_ARGUMENT", "InvalidRequest", "only multipart part uploads are accepted here");
    }
    const length = verified.contentLength;
    const check = new BodyCheck({
      ...(length === undefined ? {} : { min: length, max: length }),
      ...(verified.contentMd5 === undefined ? {} : { md5Base64: verified.contentMd5 }),
    });
    const body = c.req.raw.body ? Readable.fromWeb(c.req.raw.body as never) : Readable.from([]);
    // The pipeline hears both streams from now on; the driver rejects with the check's failure.
    const part = await driver.uploadPart(verified.key, uploadId, partNumber, pipeline(body, check, ignore));
    return c.body(null, 200, { ETag: `"${part.etag}"` });
  }

  async function download(c: Context<HttpEnv>): Promise<Response> {
    const url = new URL(c.req.url);
    let key: string;
    if (url.searchParams.has("X-Amz-Signature")) {
      key = verifyUrl(c).key;
    } else {
      key = decodeURIComponent(url.pathname.slice(prefix.length));
      const info = await driver.head(key).catch(() => undefined);
      if (info?.metadata.acl !== "public-read")
        throw s3Failure("PERMISSION_DENIED", "AccessDenied", "Access Denied");
    }
    const result = await driver.get(key);
    const headers = {
      "Content-Type": result.info.contentType ?? "application/octet-stream",
      "Content-Length": String(result.info.size),
      ETag: `"${result.info.etag}"`,
      "Last-Modified": result.info.lastModified.toUTCString(),
    };
    if (c.req.method === "HEAD") {
      result.body.destroy();
      return c.body(null, 200, headers);
    }
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
    return stream(c, async (out) => {
      // A client gone mid-download closes the file now, not when the loop would next write.
      out.onAbort(() => {
        result.body.destroy();
      });
      for await (const chunk of result.body) await out.write(chunk as Uint8Array);
    });
  }

  async function postUpload(c: Context<HttpEnv>): Promise<Response> {
    const contentType = c.req.header("content-type") ?? "";
    if (!contentType.toLowerCase().startsWith("multipart/form-data") || !c.req.raw.body) {
      throw s3Failure("INVALID_ARGUMENT", "InvalidRequest", "expected a multipart/form-data POST");
    }
    // No prototype: a field named "__proto__" is a field (which the policy check then refuses), as on S3.
    const fields: Record<string, string> = Object.create(null);
    const source = Readable.fromWeb(c.req.raw.body as never);
    const stored = await new Promise<{ key: string; etag: string; redirect?: string; status?: string }>(
      (resolve, reject) => {
        let busboy: BusboyInstance;
        try {
          busboy = Busboy({
            headers: { "content-type": contentType },
            limits: { files: 1, fields: 100, fieldSize: 64 * 1024, parts: 101 },
            // As S3: the part named `file` is the upload, with or without a filename (DataHub's
            // client posts datapackage.json without one); every other part is a form field.
            isPartAFile: (name) => name === "file",
          });
        } catch (cause) {
          reject(
            s3Failure(
              "INVALID_ARGUMENT",
              "MalformedPOSTRequest",
              "the body is not valid multipart/form-data",
            ),
          );
          source.resume();
          void cause;
          return;
        }
        let sawFile = false;
        busboy.on("field", (name, value) => {
          if (!sawFile) fields[name] = value;
        });
        busboy.on("file", (_name, file, filename) => {
          sawFile = true;
          let verified: ReturnType<typeof verifyPostPolicy>;
          try {
            verified = verifyPostPolicy({
              bucket: options.bucket,
              fields,
              filename: filename ?? "",
              now: now(),
              getSecret,
              region: options.region,
            });
          } catch (error) {
            file.resume();
            reject(error);
            return;
          }
          const range = verified.contentLengthRange;
          const check = new BodyCheck({
            ...(range ? { min: range.min, max: range.max } : {}),
            ...(verified.contentMd5 ? { md5Base64: verified.contentMd5 } : {}),
          });
          driver
            .put(verified.key, pipeline(file, check, ignore), {
              contentType: verified.contentType ?? "binary/octet-stream",
              // The MD5 the body was checked against: what /authorize and /verify compare where
              // the store's etags are no MD5 (no md5Etags).
              metadata: {
                acl: verified.acl ?? "private",
                ...(verified.contentMd5 ? { "content-md5": verified.contentMd5 } : {}),
              },
            })
            .then(
              (object) =>
                resolve({
                  key: verified.key,
                  etag: object.etag,
                  ...(verified.successActionRedirect ? { redirect: verified.successActionRedirect } : {}),
                  ...(verified.successActionStatus ? { status: verified.successActionStatus } : {}),
                }),
              (error) => {
                file.resume();
                reject(error);
              },
            );
        });
        busboy.on("error", () =>
          reject(
            s3Failure(
              "INVALID_ARGUMENT",
              "MalformedPOSTRequest",
              "the body is not valid multipart/form-data",
            ),
          ),
        );
        busboy.on("finish", () => {
          if (!sawFile)
            reject(
              s3Failure(
                "INVALID_ARGUMENT",
                "InvalidArgument",
                "POST requires exactly one file upload per request.",
              ),
            );
        });
        // busboy's own 'error' listener above answers a broken body (the pipeline destroys it then).
        pipeline(source, busboy, ignore);
      },
    );
    const location = `${new URL(c.req.url).origin}${options.bucketPath}/${escapeKeyPath(stored.key)}`;
    if (stored.redirect) {
      const target = new URL(stored.redirect);
      target.searchParams.set("bucket", options.bucket);
      target.searchParams.set("key", stored.key);
      target.searchParams.set("etag", `"${stored.etag}"`);
      return c.redirect(target.toString(), 303);
    }
    c.header("ETag", `"${stored.etag}"`);
    c.header("Location", location);
    if (stored.status === "201") {
      return c.body(
        `<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Location>${xml(location)}</Location><Bucket>${xml(options.bucket)}</Bucket><Key>${xml(stored.key)}</Key><ETag>"${stored.etag}"</ETag></PostResponse>`,
        201,
        { "Content-Type": "application/xml" },
      );
    }
    return c.body(null, stored.status === "200" ? 200 : 204);
  }
}

async function guard(c: Context<HttpEnv>, handler: () => Promise<Response>): Promise<Response> {
  try {
    return await handler();
  } catch (error) {
    const e = toWharfError(error);
    c.error = e; // answered here, not by the app's onError: the request log says why from it
    const s3Code =
      (e.details?.s3Code as string | undefined) ??
      (e.code === "NOT_FOUND" ? "NoSuchKey" : e.code === "INTERNAL" ? "InternalError" : "InvalidRequest");
    const status = s3StatusByCode[e.code] ?? (e.code === "UNAVAILABLE" ? 503 : 500);
    const message = status >= 500 ? "We encountered an internal error. Please try again." : e.message;
    if (status >= 500) c.get("log")?.error({ err: e.cause ?? e }, "local upload failed");
    return c.body(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xml(s3Code)}</Code><Message>${xml(message)}</Message></Error>`,
      status as 400,
      { "Content-Type": "application/xml" },
    );
  }
}

function xml(text: string): string {
  return text.replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
