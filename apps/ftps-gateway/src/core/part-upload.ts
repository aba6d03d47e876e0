import { Readable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { isWharfError, WharfError } from "@wharf/errors";
import { isFillable, MAX_PARTS, type MultipartPart, type StorageDriver } from "@wharf/storage-driver";
import type { PartPool } from "./part-pool.ts";

export interface PartUploadOptions {
  readonly driver: StorageDriver;
  readonly pool: PartPool;
  /** Most buffers one upload holds at once (the one being filled plus the parts in flight). */
  readonly partsPerUpload: number;
  /** Called with an upload that must be aborted; it owns the retries (see `createAbortRetrier`). */
  readonly abandon: (key: string, uploadId: string) => void;
  readonly signal?: AbortSignal;
  /** Most parts one upload may have (default 10,000, S3's limit); beyond, it fails with QUOTA_EXCEEDED. */
  readonly maxParts?: number;
}

/** Delays before the second and third attempt of a part that failed with a transient error. */
const partRetryDelaysMs = [200, 1000];

/**
 * Streams `body` to `key` as a multipart upload whose part buffers come from the shared `pool`:
 * reading stops (and the client is pushed back through TCP) while no buffer is free or this upload
 * holds `partsPerUpload` of them. A body shorter than one part is a single put. On any failure the
 * in-flight parts are cancelled and the upload goes to `abandon`, so nothing becomes visible.
 */
export async function uploadInParts(key: string, body: Readable, options: PartUploadOptions): Promise<void> {
  const { driver, pool } = options;
  const maxParts = options.maxParts ?? MAX_PARTS;
  const inner = new AbortController();
  const onAbort = () => inner.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const parts: MultipartPart[] = [];
  const running = new Set<Promise<void>>();
  let uploadId: Promise<string> | undefined;
  let failure: { error: unknown } | undefined;
  let partNumber = 0;
  let held = 0;
  let current: Buffer | undefined;
  let filled = 0;

  const startPart = (buffer: Buffer, length: number) => {
    const number = ++partNumber;
    if (number > maxParts) {
      const limitGiB = (maxParts * pool.partBytes) / 2 ** 30;
      const error = new WharfError(
        "QUOTA_EXCEEDED",
        `S3 takes at most ${maxParts} parts: files are limited to ${limitGiB.toFixed(limitGiB < 1 ? 3 : 0)} GiB with ${pool.partBytes / 2 ** 20} MiB parts (FTP_UPLOAD_PART_MIB)`,
      );
      pool.release(buffer);
      held--;
      failure ??= { error };
      inner.abort(error);
      return;
    }
    uploadId ??= driver.createMultipart(key);
    const id = uploadId;
    const task: Promise<void> = (async () => {
      const part = await uploadPart(driver, key, await id, number, buffer.subarray(0, length), inner.signal);
      parts.push(part);
    })()
      .catch((error: unknown) => {
        failure ??= { error };
        inner.abort(error);
      })
      .finally(() => {
        pool.release(buffer);
        held--;
        running.delete(task);
      });
    running.add(task);
  };

  /** The buffer to fill next: waits while this upload holds its share or the pool is empty. */
  const nextBuffer = async (): Promise<Buffer> => {
    while (held >= options.partsPerUpload && !failure) await Promise.race(running);
    if (failure) throw failure.error;
    const buffer = await pool.acquire(inner.signal);
    held++;
    filled = 0;
    return buffer;
  };

  try {
    if (isFillable(body)) {
      // The data connection reads straight into the part buffers: no copy, no garbage per read.
      for (;;) {
        current ??= await nextBuffer();
        filled += await body.fill(current, filled);
        if (failure) throw failure.error;
        if (filled < current.length) break;
        startPart(current, filled);
        current = undefined;
      }
    } else {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        let offset = 0;
        while (offset < chunk.length) {
          current ??= await nextBuffer();
          const copied = chunk.copy(current, filled, offset);
          filled += copied;
          offset += copied;
          if (filled === current.length) {
            startPart(current, filled);
            current = undefined;
          }
        }
        if (failure) throw failure.error;
      }
    }
    if (!uploadId) {
      await driver.put(key, current ? current.subarray(0, filled) : Buffer.alloc(0), {
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return;
    }
    if (current && filled > 0) {
      startPart(current, filled);
      current = undefined;
    }
    while (running.size > 0) await Promise.race(running);
    if (failure) throw failure.error;
    parts.sort((a, b) => a.partNumber - b.partNumber);
    await driver.completeMultipart(key, await uploadId, parts);
  } catch (error) {
    inner.abort(error);
    while (running.size > 0) await Promise.race(running);
    const id = await uploadId?.catch(() => undefined);
    if (id !== undefined) options.abandon(key, id);
    // A part that failed cancels the rest: report its error, not the cancellation it caused.
    throw failure && isWharfError(error, "CANCELLED") ? failure.error : error;
  } finally {
    if (current) {
      pool.release(current);
      held--;
    }
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * One part, sent as a stream of the pooled buffer (the driver then neither copies nor hashes it);
 * the SDK does not retry stream bodies, so transient failures are retried here, from the buffer.
 */
async function uploadPart(
  driver: StorageDriver,
  key: string,
  uploadId: string,
  partNumber: number,
  data: Buffer,
  signal: AbortSignal,
): Promise<MultipartPart> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await driver.uploadPart(
        key,
        uploadId,
        partNumber,
        Readable.from([data], { objectMode: false }),
        {
          size: data.length,
          signal,
        },
      );
    } catch (error) {
      const wait = partRetryDelaysMs[attempt];
      const transient = isWharfError(error, "UNAVAILABLE") || isWharfError(error, "INTERNAL");
      if (signal.aborted || !transient || wait === undefined) throw error;
      await delay(wait, undefined, { signal }).catch(() => {
        throw new WharfError("CANCELLED", "upload cancelled", { cause: error });
      });
    }
  }
}

export interface AbortRetrier {
  /** Aborts the upload now and, while that fails, again after each delay. */
  abandon(key: string, uploadId: string): void;
  /** Uploads whose abort has not succeeded yet. */
  pending(): number;
  /**
   * At shutdown: stops the backoff, tries every pending abort once more at once, and waits up to
   * `timeoutMs` for the attempts in flight. Reports the uploads aborted meanwhile and those left
   * behind (with the last error, or `undefined` when the attempt was still running at the deadline).
   */
  finish(timeoutMs: number): Promise<AbortOutcome>;
}

export interface AbortOutcome {
  readonly aborted: ReadonlyArray<{ key: string; uploadId: string }>;
  readonly left: ReadonlyArray<{ key: string; uploadId: string; error: unknown }>;
}

/** Default delays between abort attempts: about 5 minutes in all, then the upload is reported as left behind. */
export const abortRetryDelaysMs = [500, 1000, 2000, 4000, 8000, 15_000, 30_000, 60_000, 60_000, 120_000];

interface OpenAbort {
  readonly key: string;
  readonly uploadId: string;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
  error?: unknown;
}

/**
 * Aborts multipart uploads in the background with bounded backoff, so an upload that failed because
 * the store was unreachable is aborted once the store is back (instead of leaking its parts).
 */
export function createAbortRetrier(options: {
  driver: StorageDriver;
  delaysMs?: readonly number[];
  onGiveUp?: (upload: { key: string; uploadId: string; error: unknown }) => void;
  onRetry?: (upload: { key: string; uploadId: string; attempt: number; error: unknown }) => void;
}): AbortRetrier {
  const delays = options.delaysMs ?? abortRetryDelaysMs;
  const open = new Map<string, OpenAbort>();
  let finishing: Array<{ key: string; uploadId: string }> | undefined;

  function attempt(entry: OpenAbort, n: number) {
    entry.timer = undefined;
    entry.running = options.driver.abortMultipart(entry.key, entry.uploadId).then(
      () => {
        open.delete(entry.uploadId);
        finishing?.push({ key: entry.key, uploadId: entry.uploadId });
      },
      (error: unknown) => {
        entry.error = error;
        entry.running = undefined;
        if (!open.has(entry.uploadId) || finishing) return;
        const wait = delays[n];
        if (wait === undefined) {
          open.delete(entry.uploadId);
          options.onGiveUp?.({ key: entry.key, uploadId: entry.uploadId, error });
          return;
        }
        options.onRetry?.({ key: entry.key, uploadId: entry.uploadId, attempt: n + 1, error });
        entry.timer = setTimeout(() => attempt(entry, n + 1), wait);
        entry.timer.unref();
      },
    );
  }

  return {
    abandon(key, uploadId) {
      const entry: OpenAbort = { key, uploadId };
      open.set(uploadId, entry);
      attempt(entry, 0);
    },
    pending: () => open.size,
    async finish(timeoutMs) {
      finishing = [];
      for (const entry of open.values()) {
        if (entry.running) continue;
        clearTimeout(entry.timer);
        attempt(entry, delays.length);
      }
      const running = [...open.values()].flatMap((entry) => (entry.running ? [entry.running] : []));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(running),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      const left = [...open.values()].map(({ key, uploadId, running, error }) => ({
        key,
        uploadId,
        error: running ? undefined : error,
      }));
      open.clear();
      return { aborted: finishing, left };
    },
  };
}
