import { createHash, randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { WharfError } from "@wharf/errors";
import { RESERVED_SEGMENT } from "../../keys.ts";
import { s3ErrorCode, translateS3Error } from "./errors.ts";

/** Folder (below the driver's prefix) holding one claim object per key being written conditionally. */
export const CLAIMS_FOLDER = `${RESERVED_SEGMENT}/claims/`;

/** User metadata of a claim object: epoch milliseconds after which it may be taken over. */
const EXPIRES_META = "wharf-claim-expires";

export interface ClaimOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** The driver's key prefix (empty or ending with `/`). */
  readonly prefix: string;
  /** A claim not renewed for this long may be taken over; the holder renews it every third of it. */
  readonly ttlMs: number;
  /** Waiting longer than this for another writer's claim fails with `UNAVAILABLE`. */
  readonly waitMs: number;
  readonly now?: () => number;
}

/** Runs `fn` while holding the claim on `key`; at most one holder per key across processes. */
export type HoldClaim = <T>(key: string, fn: () => Promise<T>, signal?: AbortSignal) => Promise<T>;

/** Where the claim on `key` lives: hashed, so any key (up to 1024 bytes) gives a short object name. */
export function claimObjectKey(prefix: string, key: string): string {
  return `${prefix}${CLAIMS_FOLDER}${createHash("sha256").update(key).digest("hex")}`;
}

const unquote = (etag: string | undefined) => (etag ?? "").replace(/^(W\/)?"|"$/g, "");

interface Held {
  etag: string;
  readonly versions: string[];
}

/**
 * Claims make conditional writes atomic on stores that ignore conditions on some requests (Ceph 16
 * ignores `If-None-Match`/`If-Match` on CompleteMultipartUpload and CopyObject). A claim is a small
 * object created with `PutObject If-None-Match: *` (atomic everywhere that supports conditional
 * PUTs); its holder checks the condition with HEAD, writes, and deletes the claim. A claim carries
 * an expiry, renewed while held, so a crashed holder's claim is taken over with `If-Match` on its
 * etag once it has expired.
 */
export function createClaims(options: ClaimOptions): HoldClaim {
  const { client, bucket } = options;
  const now = options.now ?? Date.now;

  async function write(
    objectKey: string,
    key: string,
    condition: { IfNoneMatch: "*" } | { IfMatch: string },
  ): Promise<{ etag: string; versionId?: string }> {
    const expires = now() + options.ttlMs;
    const output = await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: objectKey,
        // The nonce makes every claim's etag unique, so If-Match names exactly one of them.
        Body: JSON.stringify({ v: 1, key, nonce: randomUUID(), expires }),
        ContentType: "application/json",
        Metadata: { [EXPIRES_META]: String(expires) },
        ...condition,
      }),
    );
    const etag = unquote(output.ETag);
    return output.VersionId === undefined ? { etag } : { etag, versionId: output.VersionId };
  }

  /** The current claim's etag and expiry, or undefined when there is none. */
  async function inspect(
    objectKey: string,
  ): Promise<{ etag: string; expires: number; versionId?: string } | undefined> {
    try {
      const output = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: objectKey }));
      const recorded = Number(output.Metadata?.[EXPIRES_META]);
      const expires = Number.isFinite(recorded)
        ? recorded
        : (output.LastModified?.getTime() ?? 0) + options.ttlMs;
      const etag = unquote(output.ETag);
      return output.VersionId === undefined
        ? { etag, expires }
        : { etag, expires, versionId: output.VersionId };
    } catch (error) {
      if (s3ErrorCode(error) === "NOT_FOUND") return undefined;
      throw translateS3Error(error);
    }
  }

  /** A failure that may only mean another writer won a race for the claim (Ceph answers 500 to a lost If-Match race). */
  const contended = (error: unknown) => {
    // A missing bucket is UNAVAILABLE too, but waiting for it helps nobody: fail at once.
    if ((error as { name?: unknown } | null)?.name === "NoSuchBucket") return false;
    const code = s3ErrorCode(error);
    return code === "PRECONDITION_FAILED" || code === "NOT_FOUND" || code === "UNAVAILABLE";
  };

  async function acquire(objectKey: string, key: string, signal: AbortSignal | undefined): Promise<Held> {
    const deadline = now() + options.waitMs;
    let wait = 5;
    for (;;) {
      if (signal?.aborted) throw new WharfError("CANCELLED", "operation cancelled", { cause: signal.reason });
      try {
        const created = await write(objectKey, key, { IfNoneMatch: "*" });
        return { etag: created.etag, versions: created.versionId ? [created.versionId] : [] };
      } catch (error) {
        if (!contended(error)) throw translateS3Error(error, key);
      }
      const holder = await inspect(objectKey);
      if (holder && holder.expires <= now()) {
        try {
          const taken = await write(objectKey, key, { IfMatch: holder.etag });
          // The crashed writer's version goes too when we release (versioned buckets keep it otherwise).
          const versions = [taken.versionId, holder.versionId].filter((v): v is string => v !== undefined);
          return { etag: taken.etag, versions };
        } catch (error) {
          if (!contended(error)) throw translateS3Error(error, key);
        }
      }
      if (now() >= deadline) {
        throw new WharfError("UNAVAILABLE", `another writer is still writing ${key}`, { details: { key } });
      }
      try {
        // A claim that vanished meanwhile is free: try again at once, or nearly.
        const pause = holder === undefined ? 1 : wait + Math.random() * wait;
        await delay(pause, undefined, signal ? { signal } : {});
      } catch (error) {
        throw new WharfError("CANCELLED", "operation cancelled", { cause: error });
      }
      wait = Math.min(wait * 2, 100);
    }
  }

  return async (key, fn, signal) => {
    const objectKey = claimObjectKey(options.prefix, key);
    const held = await acquire(objectKey, key, signal);
    let lost = false;
    let renewing: Promise<void> = Promise.resolve();
    const timer = setInterval(
      () => {
        renewing = renewing.then(async () => {
          if (lost) return;
          try {
            const renewed = await write(objectKey, key, { IfMatch: held.etag });
            held.etag = renewed.etag;
            if (renewed.versionId) held.versions.push(renewed.versionId);
          } catch {
            lost = true;
          }
        });
      },
      Math.max(options.ttlMs / 3, 10),
    );
    timer.unref();
    try {
      return await fn();
    } finally {
      clearInterval(timer);
      await renewing;
      // A claim we no longer hold belongs to whoever took it over: leave it alone.
      if (!lost) {
        const deletions = held.versions.length ? held.versions : [undefined];
        await Promise.all(
          deletions.map((versionId) =>
            client
              .send(
                new DeleteObjectCommand({
                  Bucket: bucket,
                  Key: objectKey,
                  ...(versionId === undefined ? {} : { VersionId: versionId }),
                }),
              )
              .catch(() => {}),
          ),
        );
      }
    }
  };
}
