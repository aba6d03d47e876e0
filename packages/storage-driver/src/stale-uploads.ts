import type { StorageDriver } from "./types.ts";

/** What `abortStaleUploads` reports through (a pino logger fits). */
export interface StaleUploadsLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/**
 * Aborts the multipart uploads under `prefix` initiated at least `olderThanMs` ago: those of a writer
 * that died mid-upload (killed, out of memory), which nobody will ever complete or abort. An upload
 * still in progress on another replica is younger than a sensible threshold (hours). Resolves with
 * how many were aborted: 0 when `olderThanMs` is 0 (off) or the store has no multipart uploads.
 * With `log`, what it did is logged and a failure is logged too instead of rejecting, for a sweep
 * an app starts in the background. `now` (epoch ms, default `Date.now`) is the clock the age is
 * measured with.
 *
 * @example
 * void abortStaleUploads(driver, { olderThanMs: 24 * 3600 * 1000, prefix: "lfs/", log: logger });
 */
export async function abortStaleUploads(
  driver: StorageDriver,
  options: { olderThanMs: number; prefix?: string; log?: StaleUploadsLog; now?: () => number },
): Promise<number> {
  if (!driver.capabilities.multipart || options.olderThanMs <= 0) return 0;
  const cutoff = (options.now ?? Date.now)() - options.olderThanMs;
  let aborted = 0;
  try {
    for await (const upload of driver.listMultipartUploads(options.prefix)) {
      if (upload.initiated.getTime() > cutoff) continue;
      await driver.abortMultipart(upload.key, upload.uploadId);
      aborted++;
    }
  } catch (error) {
    if (!options.log) throw error;
    options.log.warn({ err: error, aborted }, "could not look for abandoned multipart uploads");
    return aborted;
  }
  if (aborted > 0) options.log?.info({ aborted }, "aborted abandoned multipart uploads");
  return aborted;
}

/**
 * How many multipart uploads under `prefix` were initiated at least `olderThanMs` ago: those the
 * sweep should have aborted. The `<app>_stale_multipart_uploads` gauge reports it, and an alert fires
 * when it stays above 0 (a sweep that cannot abort, or one that never runs). 0 for a store without
 * multipart uploads.
 */
export async function countStaleUploads(
  driver: StorageDriver,
  options: { olderThanMs: number; prefix?: string },
): Promise<number> {
  if (!driver.capabilities.multipart) return 0;
  const cutoff = Date.now() - options.olderThanMs;
  let stale = 0;
  for await (const upload of driver.listMultipartUploads(options.prefix))
    if (upload.initiated.getTime() <= cutoff) stale++;
  return stale;
}
