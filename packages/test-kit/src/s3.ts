import { createHash, randomBytes } from "node:crypto";
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { s3Env } from "./inject.ts";
import type { S3Env } from "./types.ts";

export interface S3ClientOptions extends Omit<S3ClientConfig, "credentials"> {
  /** "second" for the run's second user, or explicit keys (e.g. a wrong secret). */
  credentials?: "first" | "second" | { accessKeyId: string; secretAccessKey: string };
  /** Defaults to `s3Env()`; pass another server's coordinates to target it. */
  env?: S3Env;
}

/**
 * An S3 client for the server under test, built by the project's rules for non-AWS endpoints
 * (real-services.md §1.3): path-style addressing, checksums only when required (Ceph 16 answers
 * 411 to the SDK's default aws-chunked uploads), no retries so that failures surface at once.
 */
export function s3Client(options: S3ClientOptions = {}): S3Client {
  const { credentials = "first", env = s3Env(), ...config } = options;
  const keys =
    credentials === "first"
      ? { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey }
      : credentials === "second"
        ? env.second
        : credentials;
  return new S3Client({
    endpoint: env.endpoint,
    region: env.region,
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: 1,
    ...config,
    credentials: keys,
  });
}

/** A valid, unique bucket name: `<prefix>-<time>-<random>`, at most 63 characters. */
export function uniqueBucketName(prefix: string): string {
  const clean =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40) || "test";
  return `${clean}-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
}

export interface TestBucket extends AsyncDisposable {
  name: string;
  client: S3Client;
}

/**
 * Creates a uniquely named bucket; disposing it deletes every object version, aborts every
 * multipart upload and deletes the bucket.
 *
 * @example
 * await using bucket = await createTestBucket("lfs-router");
 * await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: "k", Body: "v" }));
 */
export async function createTestBucket(
  prefix: string,
  options: { versioning?: boolean; client?: S3Client } = {},
): Promise<TestBucket> {
  const client = options.client ?? s3Client();
  const name = uniqueBucketName(prefix);
  await client.send(new CreateBucketCommand({ Bucket: name }));
  if (options.versioning)
    await client.send(
      new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: "Enabled" } }),
    );
  return {
    name,
    client,
    [Symbol.asyncDispose]: async () => {
      await emptyBucket(client, name);
      await client.send(new DeleteBucketCommand({ Bucket: name }));
    },
  };
}

/**
 * Adds the body's `Content-MD5` to a request: Swift's s3api refuses DeleteObjects without it (400
 * `Missing required header for this request: Content-MD5`), and a `WHEN_REQUIRED` client sends none.
 */
export function withContentMd5<C extends DeleteObjectsCommand>(command: C): C {
  command.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      if (request.headers && (typeof request.body === "string" || request.body instanceof Uint8Array))
        request.headers["content-md5"] = createHash("md5").update(request.body).digest("base64");
      return next(args);
    },
    { step: "build", name: "wharfContentMd5" },
  );
  return command;
}

/** Deletes every object version and delete marker and aborts every multipart upload in `bucket`. */
export async function emptyBucket(client: S3Client, bucket: string): Promise<void> {
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  do {
    const page = await client.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        KeyMarker: keyMarker,
        VersionIdMarker: versionIdMarker,
      }),
    );
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
      Key: v.Key!,
      VersionId: v.VersionId,
    }));
    if (objects.length > 0)
      await client.send(
        withContentMd5(
          new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }),
        ),
      );
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker !== undefined);

  let uploadKeyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  do {
    const page = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        KeyMarker: uploadKeyMarker,
        UploadIdMarker: uploadIdMarker,
      }),
    );
    await Promise.all(
      (page.Uploads ?? []).map((u) =>
        client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key!, UploadId: u.UploadId! })),
      ),
    );
    uploadKeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
  } while (uploadKeyMarker !== undefined);
}
