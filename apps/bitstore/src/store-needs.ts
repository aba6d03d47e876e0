import type { StorageDriver } from "@wharf/storage-driver";
import type { BitstoreConfig, BucketLocation, StorageTarget } from "./config.ts";

/**
 * The bucket the upload forms point at, or `undefined` when bitstore takes the uploads itself (its
 * `/s3/store` routes write them through the driver). Only a store that takes browser POST uploads
 * (`presignedPost`) gets the forms, and only if the URL names its bucket: the forms must be signed
 * for one.
 */
export function formsBucket(driver: StorageDriver, target: StorageTarget): BucketLocation | undefined {
  return driver.capabilities.presignedPost ? target.bucket : undefined;
}

/** What the store's capabilities mean for bitstore: lines to refuse to start with, or warn about. */
export interface StoreNeeds {
  /** One line per reason not to start (empty: it can serve). */
  readonly refusals: string[];
  readonly warnings: string[];
}

/**
 * Quotas and multipart sessions are documents that replicas update together, guarded by
 * `conditionalWrite`: without it bitstore refuses to start. A bucket that does not take browser POST
 * uploads (`presignedPost`, e.g. OpenStack Swift) degrades: bitstore takes the uploads itself at
 * `PUBLIC_URL` (with a warning), or refuses to start without that address.
 */
export function storeNeeds(
  driver: StorageDriver,
  config: Pick<BitstoreConfig, "storage" | "publicUrl">,
): StoreNeeds {
  const refusals: string[] = [];
  const warnings: string[] = [];
  if (config.storage.bucket !== undefined && !driver.capabilities.presignedPost) {
    const lacks = "the store lacks the capability presignedPost (it does not take browser POST uploads)";
    if (config.publicUrl === undefined)
      refusals.push(
        `${lacks}, so bitstore would take the uploads itself and needs PUBLIC_URL, the address clients upload to`,
      );
    else
      warnings.push(
        `${lacks}: bitstore takes the uploads itself at ${config.publicUrl} and writes them to the store`,
      );
  }
  if (!driver.capabilities.conditionalWrite)
    refusals.push(
      "the store lacks the capability conditionalWrite, which keeps quotas and multipart sessions consistent",
    );
  return { refusals, warnings };
}
