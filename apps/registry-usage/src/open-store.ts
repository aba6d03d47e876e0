import type { Logger } from "@wharf/http-kit";
import { openStorage, type StorageDriver, withCheckThenWrite } from "@wharf/storage-driver";

/**
 * Opens the store that holds the snapshot, its status, the scanner lease and the event marks. On a
 * store without conditional writes (Swift's s3api) these writes check first and then write
 * (`withCheckThenWrite`), which is right for one replica only: two could both take the lease, and
 * the last snapshot written wins. That is said once at start, as a warning.
 */
export async function openUsageStore(url: string, logger: Logger): Promise<StorageDriver> {
  const driver = await openStorage(url);
  if (!driver.capabilities.conditionalWrite)
    logger.warn(
      "the store has no conditional writes (capability conditionalWrite): run a single replica; the scanner lease and the snapshot are not guarded against a second one",
    );
  return withCheckThenWrite(driver);
}
