import { WharfError } from "@wharf/errors";

/** Node's codes for a certificate that does not verify. */
const certificateCodes = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_UNTRUSTED",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/**
 * Store failures that are really configuration mistakes, as one line naming what to set, with
 * `INVALID_ARGUMENT` (exit 2): a missing bucket, no credentials, an endpoint certificate that
 * does not verify.
 */
export function explainStoreError(error: unknown, storageUrl: string, configPath: string): unknown {
  if (!(error instanceof WharfError)) return error;
  const cause = error.cause as
    | { name?: unknown; Code?: unknown; code?: unknown; message?: unknown }
    | undefined;
  const explain = (message: string, details: Record<string, unknown> = {}) =>
    new WharfError("INVALID_ARGUMENT", message, { cause: error, details });
  if (cause?.name === "NoSuchBucket" || cause?.Code === "NoSuchBucket") {
    const bucket = storageUrl.startsWith("s3://") ? (storageUrl.slice(5).split(/[/?]/)[0] ?? "") : storageUrl;
    return explain(`No Such Bucket: ${bucket} (check s3.bucket in ${configPath} or TYCHO_STORAGE_URL)`, {
      bucket,
    });
  }
  if (cause?.name === "CredentialsProviderError")
    return explain(
      `No S3 credentials: set s3.aws_access_key_id and s3.aws_secret_access_key in ${configPath}, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)`,
    );
  if (typeof cause?.code === "string" && certificateCodes.has(cause.code)) {
    const endpoint = new URLSearchParams(storageUrl.split("?")[1] ?? "").get("endpoint") ?? "the S3 endpoint";
    return explain(
      `TLS certificate of ${endpoint} not trusted (${cause.code}: ${String(cause.message)}): set s3.verify to its CA bundle file (or AWS_CA_BUNDLE); s3.verify: false skips the check`,
      { code: cause.code },
    );
  }
  return error;
}
