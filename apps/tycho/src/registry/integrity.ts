import type { ObjectInfo, StorageDriver } from "@wharf/storage-driver";
import type { EtagLayout } from "./digests.ts";
import { metadataKeys } from "./layout.ts";

/** What a version's bytes can be checked against. */
export type IntegrityPlan =
  | { readonly by: "sha256"; readonly expected: string }
  /** Pushed by tychoreg (no sha256 recorded): the S3 ETag, recomputed as S3 computed it. */
  | { readonly by: "etag"; readonly expected: string; readonly layout: EtagLayout }
  | { readonly by: null; readonly reason: string };

const mib = 1024 * 1024;
/** boto3's managed transfer, which tychoreg uploads with: multipart from 8 MiB, in 8 MiB parts. */
const botoPartSize = 8 * mib;
const maxParts = 10_000;

/**
 * The sha256 recorded at push when there is one. Otherwise, on a store whose etags are md5s as S3's
 * (`capabilities.md5Etags`; tycho opens a local folder with opaque etags), the ETag: a plain one is the body's md5; a multipart one `<md5>-N` is
 * checked against the part layout tychoreg's boto3 upload produces, when N fits it. The ETag of an
 * object under SSE-KMS or SSE-C is not an md5 at all: such a version pulls unverified, with a warning.
 */
export function integrityPlan(storage: StorageDriver, info: ObjectInfo): IntegrityPlan {
  const recorded = info.metadata[metadataKeys.sha256] ?? info.sha256;
  if (recorded) return { by: "sha256", expected: recorded };
  if (!storage.capabilities.md5Etags) return { by: null, reason: "no sha256 recorded" };
  if (info.encryption !== undefined && info.encryption !== "AES256")
    return {
      by: null,
      reason: `no sha256 recorded and the ETag of an object under ${info.encryption} is not its md5`,
    };
  const etag = info.etag.toLowerCase();
  if (/^[0-9a-f]{32}$/.test(etag)) return { by: "etag", expected: etag, layout: { kind: "md5" } };
  const multipart = /^[0-9a-f]{32}-(\d+)$/.exec(etag);
  if (!multipart) return { by: null, reason: "no sha256 recorded and the ETag is not an md5" };
  const parts = Number(multipart[1]);
  let partSize = botoPartSize;
  while (Math.ceil(info.size / partSize) > maxParts) partSize *= 2;
  if (parts !== Math.max(1, Math.ceil(info.size / partSize)))
    return {
      by: null,
      reason: `no sha256 recorded and its multipart ETag (${parts} parts) does not follow tychoreg's ${partSize / mib} MiB part layout`,
    };
  return { by: "etag", expected: etag, layout: { kind: "multipart", partSize, parts } };
}

/** The digest the plan compares, taken from a download's results. */
export function actualDigest(plan: IntegrityPlan, digests: { sha256: string; etag?: string }): string {
  return plan.by === "etag" ? (digests.etag ?? "") : digests.sha256;
}
