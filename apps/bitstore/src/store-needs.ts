import type { StorageDriver } from "@wharf/storage-driver";
import type { StorageTarget } from "./config.ts";

/**
 * What bitstore cannot do without, one line per capability the store lacks (empty: it can serve).
 * Forms that point at the store (S3 mode) need it to take browser POST uploads (`presignedPost`);
 * in local-disk mode bitstore takes them itself. Quotas and multipart sessions are documents that
 * replicas update together, guarded by `conditionalWrite`.
 */
export function missingCapabilities(driver: StorageDriver, target: StorageTarget): string[] {
  const missing: string[] = [];
  if (target.kind === "s3" && !driver.capabilities.presignedPost)
    missing.push(
      "the store lacks the capability presignedPost (it does not take browser POST uploads, e.g. OpenStack Swift), which the upload forms need",
    );
  if (!driver.capabilities.conditionalWrite)
    missing.push(
      "the store lacks the capability conditionalWrite, which keeps quotas and multipart sessions consistent",
    );
  return missing;
}
