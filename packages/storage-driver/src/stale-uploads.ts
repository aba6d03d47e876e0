import type { StorageDriver } from "./types.ts";

/**
 * Aborts the multipart uploads under `prefix` initiated at least `olderThanMs` ago: those of a writer
 * that died mid-upload (killed, out of memory), which nobody will ever complete or abort. An upload
 * still in progress on another replica is younger than a sensible threshold (hours). Returns how
 * many were aborted.
 *
 * @example
 * await abortStaleUploads(driver, { olderThanMs: 24 * 3600 * 1000, prefix: "lfs/" });
 */
export async function abortStaleUploads(
  driver: StorageDriver,
  options: { olderThanMs: number; prefix?: string },
): Promise<number> {
  const cutoff = Date.now() - options.olderThanMs;
  let aborted = 0;
  for await (const upload of driver.listMultipartUploads(options.prefix)) {
    if (upload.initiated.getTime() > cutoff) continue;
    await driver.abortMultipart(upload.key, upload.uploadId);
    aborted++;
  }
  return aborted;
}
