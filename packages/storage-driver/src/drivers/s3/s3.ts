import { S3Client } from "@aws-sdk/client-s3";
import { WharfError } from "@wharf/errors";
import type { StorageDriver } from "../../types.ts";
import { createConditions } from "./conditions.ts";
import { createS3Context } from "./context.ts";
import { createList } from "./list.ts";
import { createMultipart } from "./multipart.ts";
import { createPresign } from "./presign.ts";
import { probeS3Store } from "./probe.ts";
import { createReads } from "./read.ts";
import { createWrites } from "./write.ts";

export { decodeUploadId, encodeUploadId, multipartPartSize } from "./parts.ts";

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
  /**
   * Connections to the store at once (default 256; the AWS SDK's own default is 50). A streamed
   * download holds its connection until the reader is done, so a gateway with many slow readers
   * needs more than the SDK's 50, or every other store request waits behind them.
   */
  readonly maxSockets?: number;
  /** How long the probe at open waits for the store (default 30 s), then fails `UNAVAILABLE`. */
  readonly probeTimeoutMs?: number;
}

/** Connections to the store at once when the URL does not say (`maxSockets`). */
export const DEFAULT_S3_MAX_SOCKETS = 256;

/** The client the driver builds from its connection options. */
function s3ClientFor(options: S3DriverOptions): S3Client {
  const maxSockets = options.maxSockets ?? DEFAULT_S3_MAX_SOCKETS;
  return new S3Client({
    region: options.region ?? "us-east-1",
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    // Ceph and Swift refuse aws-chunked streaming uploads; presigned URLs stay free of bogus checksums.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    // Agent options: the handler adds its defaults (keep-alive) and destroys the agents on close.
    requestHandler: {
      httpAgent: { maxSockets },
      httpsAgent: { maxSockets, ...(options.tls ?? {}) },
    },
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
      timeoutMs: options.probeTimeoutMs ?? 30_000,
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
  const client = options.client ?? s3ClientFor(options);
  const s3 = createS3Context(options, client);
  const conditions = createConditions(s3);

  return {
    name: "s3",
    capabilities: s3.capabilities,
    ...createReads(s3),
    ...createWrites(s3, conditions),
    ...createList(s3),

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

    ...createPresign(s3),
    ...createMultipart(s3, conditions),

    async close() {
      if (!options.client) client.destroy();
    },
  };
}
