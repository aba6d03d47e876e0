import { WharfError } from "@wharf/errors";
import type { MultipartLimits } from "./types.ts";

/** The most parts one multipart upload may have (S3's limit, which every driver keeps). */
export const MAX_PARTS = 10_000;

/** The largest object S3 stores (5 TiB): the bound for a size a client declares before uploading. */
export const MAX_OBJECT_BYTES = 5 * 1024 ** 4;

/** Refuses a part number outside 1..`MAX_PARTS` with `INVALID_ARGUMENT`. */
export function checkPartNumber(partNumber: number): void {
  if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS)
    throw new WharfError("INVALID_ARGUMENT", `part numbers run from 1 to ${MAX_PARTS}`);
}

/** S3's part limits (AWS, Ceph): 5 MiB … 5 GiB per part but the last, 10,000 parts. */
export const S3_MULTIPART_LIMITS: MultipartLimits = Object.freeze({
  minPartBytes: 5 * 1024 * 1024,
  maxPartBytes: 5 * 1024 * 1024 * 1024,
  maxParts: MAX_PARTS,
});

/** The fs and memory drivers take parts of any size. */
export const LOCAL_MULTIPART_LIMITS: MultipartLimits = Object.freeze({
  minPartBytes: 0,
  maxPartBytes: 5 * 1024 * 1024 * 1024,
  maxParts: MAX_PARTS,
});
