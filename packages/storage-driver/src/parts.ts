import { WharfError } from "@wharf/errors";

/** The most parts one multipart upload may have (S3's limit, which every driver keeps). */
export const MAX_PARTS = 10_000;

/** The largest object S3 stores (5 TiB): the bound for a size a client declares before uploading. */
export const MAX_OBJECT_BYTES = 5 * 1024 ** 4;

/** Refuses a part number outside 1..`MAX_PARTS` with `INVALID_ARGUMENT`. */
export function checkPartNumber(partNumber: number): void {
  if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS)
    throw new WharfError("INVALID_ARGUMENT", `part numbers run from 1 to ${MAX_PARTS}`);
}
