import { WharfError } from "@wharf/errors";
import { MAX_PARTS } from "../../parts.ts";

/** An etag an upload id can carry for `ifMatch`: an md5, or an md5 of md5s with its part count. */
const carriedEtag = /^[0-9a-f]{32}(-\d{1,5})?$/;

/**
 * Multipart conditions travel inside the opaque upload id, so any process can complete it: `~n`
 * (ifNoneMatch) or `~m<etag>` (ifMatch) after the store's own id. Ceph's ids contain `~` themselves
 * (`2~UwzmdnmPCnIrj_fI9xKZVZ5hOm_8C8i`), so only these exact forms are read back as conditions.
 */
export function encodeUploadId(
  s3UploadId: string,
  conditions: { ifNoneMatch?: "*"; ifMatch?: string },
): string {
  if (conditions.ifNoneMatch) return `${s3UploadId}~n`;
  if (conditions.ifMatch !== undefined) {
    if (!carriedEtag.test(conditions.ifMatch))
      throw new WharfError("UNSUPPORTED", "a conditional multipart upload needs an md5 etag for ifMatch");
    return `${s3UploadId}~m${conditions.ifMatch}`;
  }
  return s3UploadId;
}

export function decodeUploadId(uploadId: string): { id: string; ifNoneMatch?: "*"; ifMatch?: string } {
  const at = uploadId.lastIndexOf("~");
  if (at < 0) return { id: uploadId };
  const flag = uploadId.slice(at + 1);
  const id = uploadId.slice(0, at);
  if (flag === "n") return { id, ifNoneMatch: "*" };
  if (flag.startsWith("m") && carriedEtag.test(flag.slice(1))) return { id, ifMatch: flag.slice(1) };
  return { id: uploadId };
}

/**
 * The part size for a put of `size` bytes: `partSize`, or larger when the size would need more than
 * S3's 10,000 parts (an unknown size is limited to 10,000 × `partSize`).
 */
export function multipartPartSize(partSize: number, size: number | undefined, maxParts = MAX_PARTS): number {
  return size === undefined ? partSize : Math.max(partSize, Math.ceil(size / maxParts));
}
