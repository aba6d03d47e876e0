import type { Logger } from "@wharf/http-kit";
import { abortStaleUploads, type StorageDriver } from "@wharf/storage-driver";

/**
 * Aborts the multipart uploads under the router's key prefix initiated at least `olderThanMs` ago:
 * those of a router killed while streaming an object over 5 GiB (a live one on another replica is
 * younger). Logs what it did; never rejects. Resolves with how many were aborted.
 */
export async function abortAbandonedUploads(
  driver: StorageDriver,
  options: { olderThanMs: number; keyPrefix: string; logger: Logger },
): Promise<number> {
  if (!driver.capabilities.multipart || options.olderThanMs <= 0) return 0;
  try {
    const aborted = await abortStaleUploads(driver, {
      olderThanMs: options.olderThanMs,
      ...(options.keyPrefix ? { prefix: options.keyPrefix } : {}),
    });
    if (aborted > 0) options.logger.info({ aborted }, "aborted abandoned multipart uploads");
    return aborted;
  } catch (error) {
    options.logger.warn({ err: error }, "could not look for abandoned multipart uploads");
    return 0;
  }
}
