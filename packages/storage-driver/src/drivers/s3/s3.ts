import { createHash } from "node:crypto";
import { finished, pipeline, type Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { WharfError } from "@wharf/errors";
import { type AsyncPresigner, createPresigner } from "@wharf/s3-signing";
import {
  bodyError,
  checkBody,
  checkPutOptions,
  DigestingStream,
  heedErrors,
  readAll,
  throwIfAborted,
  toReadable,
} from "../../body.ts";
import { type KeyOptions, RESERVED_SEGMENT, validateKey, validatePrefix } from "../../keys.ts";

/** S3 and this driver store folder-marker keys (`photos/`). */
const markers: KeyOptions = { folderMarker: true };

import { pageLimit } from "../../list-page.ts";
import { checkPartNumber, MAX_PARTS, S3_MULTIPART_LIMITS } from "../../parts.ts";
import type {
  BodyInput,
  ByteRange,
  Capabilities,
  MultipartPart,
  ObjectInfo,
  PresignedRequest,
  StorageDriver,
} from "../../types.ts";
import { createClaims } from "./claim.ts";
import { s3ErrorCode, translateS3Error } from "./errors.ts";
import { probeS3Store } from "./probe.ts";

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** How an https endpoint's certificate is checked. */
export interface S3TlsOptions {
  readonly ca?: string | Buffer;
  readonly rejectUnauthorized?: boolean;
}

export interface S3DriverOptions {
  readonly bucket: string;
  /** Key prefix inside the bucket, ending with `/` (or empty). */
  readonly prefix?: string;
  /** `http(s)://host:port` of a non-AWS S3 service; implies path-style addressing. */
  readonly endpoint?: string;
  readonly region?: string;
  readonly forcePathStyle?: boolean;
  /** Static credentials; default: the standard AWS chain (env, profile, ECS/IMDS). */
  readonly credentials?: S3Credentials;
  /**
   * https endpoints: `ca` (PEM) replaces the trusted certificate authorities (as boto3's `verify`
   * path and `AWS_CA_BUNDLE` do); `rejectUnauthorized: false` checks no certificate at all.
   */
  readonly tls?: S3TlsOptions;
  /** A ready client (not destroyed by `close`); the connection options above are then ignored. */
  readonly client?: S3Client;
  /** Multipart part size in bytes (default 8 MiB, at least 5 MiB). Memory per upload ≈ partSize × queueSize. */
  readonly partSize?: number;
  /** Parts uploaded in parallel (default 2). */
  readonly queueSize?: number;
  /**
   * Lifetime of the claim object that makes a conditional write atomic (default 30 s, renewed every
   * third of it while held): a crashed writer's claim is taken over once it has expired.
   */
  readonly claimTtlMs?: number;
  /** How long a conditional write waits for another writer's claim on the same key (default 60 s), then `UNAVAILABLE`. */
  readonly claimWaitMs?: number;
  /**
   * Whether the store honours `If-None-Match`/`If-Match` on PUT (default true; Swift's s3api
   * answers 501). `openS3Driver` probes it when not given. Without it, conditional writes are
   * `UNSUPPORTED`.
   */
  readonly conditionalWrite?: boolean;
  /** Whether the store accepts browser POST uploads (default true; Swift's s3api does not). `openS3Driver` probes it. */
  readonly presignedPost?: boolean;
  /** The most parts a multipart upload may have (default 10,000; Swift's s3api allows 1,000 unless configured). */
  readonly maxParts?: number;
}

/** User-metadata entry where the driver records a verified sha256; hidden from `metadata`. */
const SHA256_META = "wharf-sha256";

const reserved = `${RESERVED_SEGMENT}/`;

const unquote = (etag: string | undefined) => (etag ?? "").replace(/^(W\/)?"|"$/g, "");

function rangeHeader(range: ByteRange): string {
  if ("suffix" in range) return `bytes=-${range.suffix}`;
  return `bytes=${range.start}-${range.end ?? ""}`;
}

const encodedWord = /^=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=$/;

/** Header values must be printable ASCII: others travel as RFC 2047 encoded words (as AWS does). */
function encodeMetadata(metadata: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const encoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata ?? {})) {
    encoded[name.toLowerCase()] =
      /^[\x20-\x7e]*$/.test(value) && !encodedWord.test(value)
        ? value
        : `=?UTF-8?B?${Buffer.from(value, "utf8").toString("base64")}?=`;
  }
  return encoded;
}

function userMetadata(raw: Record<string, string> | undefined): {
  metadata: Record<string, string>;
  sha256?: string;
} {
  const metadata: Record<string, string> = {};
  let sha256: string | undefined;
  for (const [name, value] of Object.entries(raw ?? {})) {
    const word = encodedWord.exec(value);
    if (name.toLowerCase() === SHA256_META) sha256 = value;
    else metadata[name.toLowerCase()] = word ? Buffer.from(word[1]!, "base64").toString("utf8") : value;
  }
  return sha256 === undefined ? { metadata } : { metadata, sha256 };
}

/** An etag an upload id can carry for `ifMatch`: an md5, or an md5 of md5s with its part count. */
const carriedEtag = /^[0-9a-f]{32}(-\d{1,5})?$/;

/**
 * Multipart conditions travel inside the opaque upload id, so any process can complete it: `~n`
 * (ifNoneMatch) or `~m<etag>` (ifMatch) after the store's own id. Ceph's ids contain `~` themselves
 * (`2~UwzmdnmPCnIrj_fI9xKZVZ5hOm_8C8i`), so only these exact forms are read back as conditions.
 */
export function encodeUploadId(
  s3UploadId: string,
  conditions: { ifNoneMatch?: "*"; ifMatch?: string },
): string {
  if (conditions.ifNoneMatch) return `${s3UploadId}~n`;
  if (conditions.ifMatch !== undefined) {
    if (!carriedEtag.test(conditions.ifMatch))
      throw new WharfError("UNSUPPORTED", "a conditional multipart upload needs an md5 etag for ifMatch");
    return `${s3UploadId}~m${conditions.ifMatch}`;
  }
  return s3UploadId;
}

export function decodeUploadId(uploadId: string): { id: string; ifNoneMatch?: "*"; ifMatch?: string } {
  const at = uploadId.lastIndexOf("~");
  if (at < 0) return { id: uploadId };
  const flag = uploadId.slice(at + 1);
  const id = uploadId.slice(0, at);
  if (flag === "n") return { id, ifNoneMatch: "*" };
  if (flag.startsWith("m") && carriedEtag.test(flag.slice(1))) return { id, ifMatch: flag.slice(1) };
  return { id: uploadId };
}

/**
 * The part size for a put of `size` bytes: `partSize`, or larger when the size would need more than
 * S3's 10,000 parts (an unknown size is limited to 10,000 × `partSize`).
 */
export function multipartPartSize(partSize: number, size: number | undefined, maxParts = MAX_PARTS): number {
  return size === undefined ? partSize : Math.max(partSize, Math.ceil(size / maxParts));
}

/** Refuses a conditional write on a store without conditional writes, naming the capability. */
function refuseConditional(conditions: { ifNoneMatch?: "*"; ifMatch?: string }, key: string): void {
  if (conditions.ifNoneMatch === undefined && conditions.ifMatch === undefined) return;
  throw new WharfError(
    "UNSUPPORTED",
    `this store does not support conditional writes (capability conditionalWrite): cannot write ${key} with ${conditions.ifNoneMatch ? "ifNoneMatch" : "ifMatch"}`,
    { details: { key, capability: "conditionalWrite" } },
  );
}

/** A store's 501 to a conditional request: the missing feature is conditional writes. */
function unsupportedConditional(error: WharfError, key: string): WharfError {
  if (error.code !== "UNSUPPORTED") return error;
  return new WharfError(
    "UNSUPPORTED",
    `this store does not support conditional writes (capability conditionalWrite; open it with conditionalWrite=false): ${error.message}`,
    { cause: error, details: { key, capability: "conditionalWrite" } },
  );
}

/** The client the driver builds from its connection options. */
function s3ClientFor(options: S3DriverOptions): S3Client {
  return new S3Client({
    region: options.region ?? "us-east-1",
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    // Ceph and Swift refuse aws-chunked streaming uploads; presigned URLs stay free of bogus checksums.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    // Agent options: the handler adds its defaults (keep-alive, maxSockets) and destroys it on close.
    ...(options.tls === undefined ? {} : { requestHandler: { httpsAgent: { ...options.tls } } }),
  });
}

/**
 * `createS3Driver`, after learning what the store supports where the options do not say
 * (`conditionalWrite`, `presignedPost`: see `probeS3Store`). Rejects when the store cannot be
 * probed (unreachable, missing bucket, refused credentials).
 *
 * @example
 * const storage = await openS3Driver({ bucket: "lfs", endpoint: "http://127.0.0.1:8080" });
 * storage.capabilities.conditionalWrite; // false on Swift's s3api
 */
export async function openS3Driver(
  options: S3DriverOptions & { readonly fetch?: typeof fetch },
): Promise<StorageDriver> {
  const probe = {
    conditionalWrite: options.conditionalWrite === undefined,
    // The form probe posts with fetch, which knows nothing of `tls` (a private CA, or no checks):
    // such a store is taken to accept forms unless the URL says `presignedPost=false`.
    presignedPost: options.presignedPost === undefined && options.tls === undefined,
  };
  if (!probe.conditionalWrite && !probe.presignedPost) return createS3Driver(options);
  const client = options.client ?? s3ClientFor(options);
  try {
    const found = await probeS3Store({
      client,
      bucket: options.bucket,
      prefix: options.prefix ?? "",
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
      probe,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
    return createS3Driver({ ...options, ...found });
  } finally {
    if (!options.client) client.destroy();
  }
}

/**
 * Objects in an S3 bucket (AWS, Ceph RGW, …) under an optional key prefix. Streams of unknown
 * length go through lib-storage multipart uploads with bounded memory; a body that fails its
 * size or sha256 check errors before the upload completes, so nothing becomes visible.
 *
 * @example
 * const storage = createS3Driver({ bucket: "lfs", endpoint: "http://127.0.0.1:7480", region: "us-east-1" });
 */
export function createS3Driver(options: S3DriverOptions): StorageDriver {
  const bucket = options.bucket;
  const prefix = options.prefix ?? "";
  if (prefix !== "") validatePrefix(prefix);
  if (prefix !== "" && !prefix.endsWith("/"))
    throw new WharfError("INVALID_ARGUMENT", "the S3 key prefix must end with /");
  const partSize = Math.max(options.partSize ?? 8 * 1024 * 1024, 5 * 1024 * 1024);
  const queueSize = Math.max(options.queueSize ?? 2, 1);
  const maxParts = Math.min(Math.max(options.maxParts ?? MAX_PARTS, 1), MAX_PARTS);
  const capabilities: Capabilities = Object.freeze({
    rangeRead: true,
    conditionalWrite: options.conditionalWrite ?? true,
    presign: true,
    presignedPost: options.presignedPost ?? true,
    multipart: true,
    multipartLimits: Object.freeze({ ...S3_MULTIPART_LIMITS, maxParts }),
    // Parts travel with their length: a writer that buffers them spares the driver a copy.
    preferredWriteBufferBytes: partSize,
    rename: false,
    folderMarkers: true,
    md5Etags: true,
  });
  const guard = (key: string, conditions: { ifNoneMatch?: "*"; ifMatch?: string }) => {
    if (!capabilities.conditionalWrite) refuseConditional(conditions, key);
  };
  const client = options.client ?? s3ClientFor(options);
  const full = (key: string) => prefix + key;
  const holdClaim = createClaims({
    client,
    bucket,
    prefix,
    ttlMs: Math.max(options.claimTtlMs ?? 30_000, 1000),
    waitMs: Math.max(options.claimWaitMs ?? 60_000, 0),
  });
  let presigner: Promise<AsyncPresigner> | undefined;
  /** The hand-written SigV4 presigner of @wharf/s3-signing, fed by the client's credential chain. */
  function getPresigner(): Promise<AsyncPresigner> {
    presigner ??= (async () =>
      createPresigner({
        credentials: async () => client.config.credentials(),
        region: await client.config.region(),
      }))();
    return presigner;
  }

  function toInfo(key: string, output: HeadObjectCommandOutput, size?: number): ObjectInfo {
    const { metadata, sha256 } = userMetadata(output.Metadata);
    const encryption = output.SSECustomerAlgorithm
      ? `SSE-C:${output.SSECustomerAlgorithm}`
      : output.ServerSideEncryption;
    return {
      key,
      size: size ?? output.ContentLength ?? 0,
      etag: unquote(output.ETag),
      lastModified: output.LastModified ?? new Date(0),
      metadata,
      ...(output.ContentType === undefined ? {} : { contentType: output.ContentType }),
      ...(sha256 === undefined ? {} : { sha256 }),
      ...(encryption === undefined ? {} : { encryption }),
    };
  }

  async function head(key: string): Promise<ObjectInfo> {
    try {
      return toInfo(key, await client.send(new HeadObjectCommand({ Bucket: bucket, Key: full(key) })));
    } catch (error) {
      throw translateS3Error(error, key);
    }
  }

  async function exists(key: string): Promise<ObjectInfo | undefined> {
    try {
      return await head(key);
    } catch (error) {
      if (error instanceof WharfError && error.code === "NOT_FOUND") return undefined;
      throw error;
    }
  }

  /** Precondition check with HEAD: atomic only while the key's claim is held. */
  async function precheck(key: string, conditions: { ifNoneMatch?: "*"; ifMatch?: string }): Promise<void> {
    if (conditions.ifNoneMatch === undefined && conditions.ifMatch === undefined) return;
    const current = await exists(key);
    if (conditions.ifNoneMatch === "*" && current) {
      throw new WharfError("PRECONDITION_FAILED", `an object exists at ${key}`, { details: { key } });
    }
    if (conditions.ifMatch !== undefined && current?.etag !== conditions.ifMatch) {
      throw new WharfError("PRECONDITION_FAILED", `the etag does not match at ${key}`, { details: { key } });
    }
  }

  /**
   * The client lib-storage uploads through: for a conditional upload, its single PutObject runs
   * under the key's claim (the request's own condition header is atomic), and its
   * CompleteMultipartUpload under the claim after a HEAD check (Ceph 16 ignores the header there).
   */
  function claimingClient(
    key: string,
    conditions: { ifNoneMatch?: "*"; ifMatch?: string },
    signal?: AbortSignal,
  ) {
    const send = client.send.bind(client) as (...args: unknown[]) => Promise<unknown>;
    return new Proxy(client, {
      get(target, property) {
        if (property !== "send") return Reflect.get(target, property);
        return (command: unknown, ...rest: unknown[]) => {
          if (command instanceof PutObjectCommand)
            return holdClaim(key, () => send(command, ...rest), signal);
          if (command instanceof CompleteMultipartUploadCommand) {
            return holdClaim(
              key,
              async () => {
                await precheck(key, conditions);
                return send(command, ...rest);
              },
              signal,
            );
          }
          return send(command, ...rest);
        };
      },
    });
  }

  /** A conditional write on a missing key is a failed precondition, whatever the server says. */
  function conditionalError(error: unknown, key: string, conditional: boolean): WharfError {
    const translated = translateS3Error(error, key);
    if (conditional && translated.code === "UNSUPPORTED") return unsupportedConditional(translated, key);
    if (conditional && translated.code === "NOT_FOUND") {
      return new WharfError("PRECONDITION_FAILED", `no object exists at ${key}`, {
        cause: error,
        details: { key },
      });
    }
    return translated;
  }

  return {
    name: "s3",
    capabilities,

    async head(key) {
      validateKey(key, markers);
      return head(key);
    },

    async get(key, getOptions = {}) {
      validateKey(key, markers);
      throwIfAborted(getOptions.signal);
      try {
        const output = await client.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: full(key),
            ...(getOptions.range ? { Range: rangeHeader(getOptions.range) } : {}),
            ...(getOptions.ifMatch === undefined ? {} : { IfMatch: `"${getOptions.ifMatch}"` }),
          }),
          getOptions.signal ? { abortSignal: getOptions.signal } : {},
        );
        const body = heedErrors(output.Body as Readable);
        const contentRange = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(output.ContentRange ?? "");
        if (getOptions.range && contentRange) {
          const range = {
            start: Number(contentRange[1]),
            end: Number(contentRange[2]),
            total: Number(contentRange[3]),
          };
          return { info: toInfo(key, output, range.total), body, range };
        }
        if (getOptions.range) {
          // The server ignored the range (e.g. an empty object): serve the whole body as the range.
          const total = output.ContentLength ?? 0;
          if (total === 0) {
            body.destroy();
            throw new WharfError("RANGE_NOT_SATISFIABLE", "range not satisfiable for an empty object");
          }
          return { info: toInfo(key, output), body, range: { start: 0, end: total - 1, total } };
        }
        return { info: toInfo(key, output), body };
      } catch (error) {
        throw translateS3Error(error, key);
      }
    },

    async put(key, body: BodyInput, putOptions = {}) {
      heedErrors(body);
      validateKey(key, markers);
      checkPutOptions(putOptions);
      guard(key, putOptions);
      throwIfAborted(putOptions.signal);
      const conditional = putOptions.ifMatch !== undefined || putOptions.ifNoneMatch !== undefined;
      const params = {
        Bucket: bucket,
        Key: full(key),
        ...(putOptions.contentType === undefined ? {} : { ContentType: putOptions.contentType }),
        ...(putOptions.ifNoneMatch === undefined ? {} : { IfNoneMatch: "*" }),
        // Ceph 16 answers 412 to a quoted If-Match on PUT; the unquoted etag works everywhere tested.
        ...(putOptions.ifMatch === undefined ? {} : { IfMatch: putOptions.ifMatch }),
      };
      try {
        if (typeof body === "string" || body instanceof Uint8Array) {
          const data =
            typeof body === "string"
              ? Buffer.from(body)
              : Buffer.from(body.buffer, body.byteOffset, body.length);
          const sha256 = createHash("sha256").update(data).digest("hex");
          checkBody({ size: data.length, sha256 }, putOptions);
          const send = () =>
            client.send(
              new PutObjectCommand({
                ...params,
                Body: data,
                ContentLength: data.length,
                ContentMD5: createHash("md5").update(data).digest("base64"),
                Metadata: { ...encodeMetadata(putOptions.metadata), [SHA256_META]: sha256 },
              }),
              putOptions.signal ? { abortSignal: putOptions.signal } : {},
            );
          // The header is atomic; the claim keeps a concurrent multipart completion out of the way.
          const output = conditional ? await holdClaim(key, send, putOptions.signal) : await send();
          return {
            key,
            size: data.length,
            etag: unquote(output.ETag),
            lastModified: new Date(),
            metadata: { ...putOptions.metadata },
            sha256,
            ...(putOptions.contentType === undefined ? {} : { contentType: putOptions.contentType }),
          };
        }
        // Fail fast before uploading; the atomic check happens under the claim (see claimingClient).
        if (conditional) await precheck(key, putOptions);
        const verify = {
          ...(putOptions.size === undefined ? {} : { size: putOptions.size }),
          ...(putOptions.sha256 === undefined ? {} : { sha256: putOptions.sha256 }),
        };
        const digest = new DigestingStream({
          ...(putOptions.size === undefined ? {} : { limit: putOptions.size }),
          verify,
        });
        const source = toReadable(body);
        // The Upload reads `digest` and rejects with its error; the pipeline hears both streams.
        pipeline(source, digest, () => {});
        const abortController = new AbortController();
        const onAbort = () => abortController.abort(putOptions.signal?.reason);
        putOptions.signal?.addEventListener("abort", onAbort, { once: true });
        const metadata = {
          ...encodeMetadata(putOptions.metadata),
          ...(putOptions.sha256 ? { [SHA256_META]: putOptions.sha256.toLowerCase() } : {}),
        };
        try {
          await new Upload({
            client: conditional ? claimingClient(key, putOptions, putOptions.signal) : client,
            params: { ...params, Body: digest, Metadata: metadata },
            partSize: multipartPartSize(partSize, putOptions.size, maxParts),
            queueSize,
            leavePartsOnError: false,
            abortController,
          }).done();
        } catch (error) {
          source.destroy();
          if (putOptions.signal?.aborted) throw bodyError(error, putOptions.signal);
          if (error instanceof WharfError) throw error;
          if (s3ErrorCode(error) === "INTERNAL") throw bodyError(error, putOptions.signal);
          throw error;
        } finally {
          putOptions.signal?.removeEventListener("abort", onAbort);
        }
        // Ceph returns an empty etag from CompleteMultipartUpload: read the real one.
        return await head(key);
      } catch (error) {
        throw conditionalError(error, key, conditional);
      }
    },

    async delete(key) {
      validateKey(key, markers);
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: full(key) }));
      } catch (error) {
        const translated = translateS3Error(error, key);
        if (translated.code !== "NOT_FOUND") throw translated;
      }
    },

    async list(listOptions = {}) {
      if (listOptions.prefix) validatePrefix(listOptions.prefix);
      const limit = pageLimit(listOptions.limit);
      try {
        const output = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: full(listOptions.prefix ?? ""),
            MaxKeys: limit,
            ...(listOptions.delimiter ? { Delimiter: listOptions.delimiter } : {}),
            ...(listOptions.cursor ? { ContinuationToken: listOptions.cursor } : {}),
            ...(listOptions.startAfter !== undefined ? { StartAfter: full(listOptions.startAfter) } : {}),
          }),
          listOptions.signal ? { abortSignal: listOptions.signal } : {},
        );
        // Claim objects live under the reserved folder: never list them.
        const objects = (output.Contents ?? [])
          .map((object) => ({
            key: (object.Key ?? "").slice(prefix.length),
            size: object.Size ?? 0,
            etag: unquote(object.ETag),
            lastModified: object.LastModified ?? new Date(0),
          }))
          .filter((object) => !object.key.startsWith(reserved));
        const prefixes = (output.CommonPrefixes ?? [])
          .map((common) => (common.Prefix ?? "").slice(prefix.length))
          .filter((common) => !common.startsWith(reserved));
        return output.IsTruncated && output.NextContinuationToken
          ? { objects, prefixes, cursor: output.NextContinuationToken }
          : { objects, prefixes };
      } catch (error) {
        throw translateS3Error(error);
      }
    },

    async copy(sourceKey, destinationKey, copyOptions = {}) {
      validateKey(sourceKey, markers);
      validateKey(destinationKey, markers);
      guard(destinationKey, copyOptions);
      const source = await head(sourceKey);
      const replace = copyOptions.metadata !== undefined || copyOptions.contentType !== undefined;
      const contentType = copyOptions.contentType ?? source.contentType;
      const send = () =>
        client.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: full(destinationKey),
            CopySource: `${bucket}/${full(sourceKey).split("/").map(encodeURIComponent).join("/")}`,
            CopySourceIfMatch: `"${source.etag}"`,
            ...(copyOptions.ifNoneMatch ? { IfNoneMatch: "*" } : {}),
            ...(replace
              ? {
                  MetadataDirective: "REPLACE",
                  Metadata: {
                    ...encodeMetadata(copyOptions.metadata ?? source.metadata),
                    ...(source.sha256 === undefined ? {} : { [SHA256_META]: source.sha256 }),
                  },
                  ...(contentType === undefined ? {} : { ContentType: contentType }),
                }
              : {}),
          }),
        );
      try {
        // Ceph 16 ignores If-None-Match on CopyObject: check under the destination's claim.
        if (copyOptions.ifNoneMatch) {
          await holdClaim(destinationKey, async () => {
            await precheck(destinationKey, { ifNoneMatch: "*" });
            await send();
          });
        } else {
          await send();
        }
      } catch (error) {
        const translated = translateS3Error(error, sourceKey);
        throw copyOptions.ifNoneMatch ? unsupportedConditional(translated, destinationKey) : translated;
      }
      return head(destinationKey);
    },

    async rename() {
      throw new WharfError(
        "UNSUPPORTED",
        "S3 cannot rename atomically (capability rename): use moveObject (copy, then delete)",
        { details: { capability: "rename" } },
      );
    },

    async renamePrefix() {
      throw new WharfError(
        "UNSUPPORTED",
        "S3 cannot rename a folder atomically (capability rename): use movePrefix",
        { details: { capability: "rename" } },
      );
    },

    async presign(key, presignOptions): Promise<PresignedRequest> {
      validateKey(key, markers);
      const { method, expiresIn } = presignOptions;
      if (!Number.isSafeInteger(expiresIn) || expiresIn < 1 || expiresIn > 604_800) {
        throw new WharfError("INVALID_ARGUMENT", "expiresIn must be 1 … 604800 seconds");
      }
      const headers: Record<string, string> = {};
      const signableHeaders = new Set<string>();
      let command: GetObjectCommand | HeadObjectCommand | PutObjectCommand;
      if (method === "PUT") {
        if (presignOptions.contentType !== undefined) {
          headers["content-type"] = presignOptions.contentType;
          signableHeaders.add("content-type");
        }
        if (presignOptions.contentLength !== undefined) {
          headers["content-length"] = String(presignOptions.contentLength);
          signableHeaders.add("content-length");
        }
        const checksum =
          presignOptions.sha256 && Buffer.from(presignOptions.sha256, "hex").toString("base64");
        if (checksum) {
          headers["x-amz-checksum-sha256"] = checksum;
          signableHeaders.add("x-amz-checksum-sha256");
        }
        command = new PutObjectCommand({
          Bucket: bucket,
          Key: full(key),
          ...(presignOptions.contentType === undefined ? {} : { ContentType: presignOptions.contentType }),
          ...(presignOptions.contentLength === undefined
            ? {}
            : { ContentLength: presignOptions.contentLength }),
          ...(checksum ? { ChecksumSHA256: checksum } : {}),
        });
      } else if (method === "GET") {
        command = new GetObjectCommand({
          Bucket: bucket,
          Key: full(key),
          ...(presignOptions.responseContentDisposition === undefined
            ? {}
            : { ResponseContentDisposition: presignOptions.responseContentDisposition }),
        });
      } else {
        command = new HeadObjectCommand({ Bucket: bucket, Key: full(key) });
      }
      try {
        const signedAt = Date.now();
        // An injected client may point anywhere: let the SDK presigner read its endpoint rules.
        const url = options.client
          ? await getSignedUrl(client as never, command as never, { expiresIn, signableHeaders })
          : await (await getPresigner()).presignUrl({
              method,
              url: {
                ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
                bucket,
                key: full(key),
                forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
              },
              expiresIn,
              headers,
              ...(method === "GET" && presignOptions.responseContentDisposition !== undefined
                ? { query: { "response-content-disposition": presignOptions.responseContentDisposition } }
                : {}),
              now: signedAt,
            });
        return { url, method, headers, expiresAt: new Date(signedAt + expiresIn * 1000) };
      } catch (error) {
        throw translateS3Error(error, key);
      }
    },

    async createMultipart(key, multipartOptions = {}) {
      validateKey(key, markers);
      checkPutOptions(multipartOptions);
      guard(key, multipartOptions);
      // Before the upload exists: an ifMatch the id cannot carry would leave it behind.
      encodeUploadId("", multipartOptions);
      try {
        const output = await client.send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: full(key),
            ...(multipartOptions.contentType === undefined
              ? {}
              : { ContentType: multipartOptions.contentType }),
            ...(multipartOptions.metadata === undefined
              ? {}
              : { Metadata: encodeMetadata(multipartOptions.metadata) }),
          }),
        );
        return encodeUploadId(output.UploadId ?? "", multipartOptions);
      } catch (error) {
        throw translateS3Error(error, key);
      }
    },

    async uploadPart(key, uploadId, partNumber, body, partOptions = {}) {
      heedErrors(body);
      validateKey(key, markers);
      checkPartNumber(partNumber);
      // A part needs a Content-Length: buffer it unless its size is declared. A buffer passed in is
      // sent as it is (no copy): the caller keeps it until this call returns.
      const known = typeof body === "string" || body instanceof Uint8Array || partOptions.size === undefined;
      const data = known
        ? await readAll(body, { maxBytes: 64 * 1024 * 1024, copy: false }).catch((error) => {
            throw bodyError(error, partOptions.signal);
          })
        : undefined;
      if (data && partOptions.size !== undefined)
        checkBody({ size: data.length, sha256: "" }, { size: partOptions.size });
      // The SDK pipes a stream body into the request and would wait forever for one that failed:
      // a failure (or an abort of `signal`) aborts the request.
      const source = data ? undefined : toReadable(body);
      const abort = new AbortController();
      const onAbort = () => abort.abort(partOptions.signal?.reason);
      partOptions.signal?.addEventListener("abort", onAbort, { once: true });
      const unwatch = source ? finished(source, (error) => error && abort.abort(error)) : undefined;
      try {
        const output = await client.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: full(key),
            UploadId: decodeUploadId(uploadId).id,
            PartNumber: partNumber,
            Body: data ?? source,
            ContentLength: data?.length ?? partOptions.size,
            ...(data ? { ContentMD5: createHash("md5").update(data).digest("base64") } : {}),
          }),
          { abortSignal: abort.signal },
        );
        return { partNumber, etag: unquote(output.ETag), size: data?.length ?? partOptions.size ?? 0 };
      } catch (error) {
        if (abort.signal.aborted) {
          source?.destroy();
          throw bodyError(partOptions.signal?.aborted ? error : abort.signal.reason, partOptions.signal);
        }
        throw translateS3Error(error, key);
      } finally {
        unwatch?.();
        partOptions.signal?.removeEventListener("abort", onAbort);
      }
    },

    async *listMultipartUploads(listPrefix = "") {
      if (listPrefix) validatePrefix(listPrefix);
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      do {
        let output: ListMultipartUploadsCommandOutput;
        try {
          output = await client.send(
            new ListMultipartUploadsCommand({
              Bucket: bucket,
              Prefix: full(listPrefix),
              ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
              ...(uploadIdMarker === undefined ? {} : { UploadIdMarker: uploadIdMarker }),
            }),
          );
        } catch (error) {
          throw translateS3Error(error);
        }
        for (const upload of output.Uploads ?? []) {
          if (!upload.Key?.startsWith(prefix) || !upload.UploadId) continue;
          yield {
            key: upload.Key.slice(prefix.length),
            uploadId: upload.UploadId,
            initiated: upload.Initiated ?? new Date(0),
          };
        }
        keyMarker = output.IsTruncated ? output.NextKeyMarker : undefined;
        uploadIdMarker = output.IsTruncated ? output.NextUploadIdMarker : undefined;
      } while (keyMarker !== undefined);
    },

    async listParts(key, uploadId) {
      validateKey(key, markers);
      const parts: MultipartPart[] = [];
      let marker: string | undefined;
      try {
        do {
          const output = await client.send(
            new ListPartsCommand({
              Bucket: bucket,
              Key: full(key),
              UploadId: decodeUploadId(uploadId).id,
              ...(marker === undefined ? {} : { PartNumberMarker: marker }),
            }),
          );
          for (const part of output.Parts ?? []) {
            parts.push({ partNumber: part.PartNumber ?? 0, etag: unquote(part.ETag), size: part.Size ?? 0 });
          }
          marker = output.IsTruncated ? output.NextPartNumberMarker : undefined;
        } while (marker !== undefined);
      } catch (error) {
        throw translateS3Error(error, key);
      }
      return parts;
    },

    async completeMultipart(key, uploadId, parts) {
      validateKey(key, markers);
      const { id, ...conditions } = decodeUploadId(uploadId);
      const conditional = conditions.ifMatch !== undefined || conditions.ifNoneMatch !== undefined;
      if (parts.length === 0) throw new WharfError("INVALID_ARGUMENT", "a multipart upload needs a part");
      const complete = () =>
        client.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: full(key),
            UploadId: id,
            MultipartUpload: {
              Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: `"${part.etag}"` })),
            },
            ...(conditions.ifNoneMatch ? { IfNoneMatch: "*" } : {}),
            ...(conditions.ifMatch === undefined ? {} : { IfMatch: conditions.ifMatch }),
          }),
        );
      try {
        // Ceph 16 ignores the condition headers on Complete: check with HEAD under the key's claim.
        if (conditional) {
          await holdClaim(key, async () => {
            await precheck(key, conditions);
            await complete();
          });
        } else {
          await complete();
        }
        return await head(key);
      } catch (error) {
        const translated = conditionalError(error, key, false);
        throw conditional ? unsupportedConditional(translated, key) : translated;
      }
    },

    async abortMultipart(key, uploadId) {
      validateKey(key, markers);
      try {
        await client.send(
          new AbortMultipartUploadCommand({
            Bucket: bucket,
            Key: full(key),
            UploadId: decodeUploadId(uploadId).id,
          }),
        );
      } catch (error) {
        const translated = translateS3Error(error, key);
        if (translated.code !== "NOT_FOUND") throw translated;
      }
    },

    async close() {
      if (!options.client) client.destroy();
    },
  };
}
