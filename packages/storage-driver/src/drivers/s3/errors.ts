import { type ErrorCode, WharfError } from "@wharf/errors";

const byName: Readonly<Record<string, ErrorCode>> = {
  NoSuchKey: "NOT_FOUND",
  NotFound: "NOT_FOUND",
  NoSuchUpload: "NOT_FOUND",
  PreconditionFailed: "PRECONDITION_FAILED",
  ConditionalRequestConflict: "PRECONDITION_FAILED",
  NotModified: "PRECONDITION_FAILED",
  AccessDenied: "PERMISSION_DENIED",
  InvalidAccessKeyId: "PERMISSION_DENIED",
  SignatureDoesNotMatch: "PERMISSION_DENIED",
  ExpiredToken: "PERMISSION_DENIED",
  InvalidToken: "PERMISSION_DENIED",
  InvalidRange: "RANGE_NOT_SATISFIABLE",
  BadDigest: "CHECKSUM_MISMATCH",
  InvalidDigest: "CHECKSUM_MISMATCH",
  XAmzContentSHA256Mismatch: "CHECKSUM_MISMATCH",
  EntityTooLarge: "PAYLOAD_TOO_LARGE",
  EntityTooSmall: "INVALID_ARGUMENT",
  InvalidPart: "INVALID_ARGUMENT",
  InvalidPartOrder: "INVALID_ARGUMENT",
  InvalidArgument: "INVALID_ARGUMENT",
  InvalidRequest: "INVALID_ARGUMENT",
  KeyTooLongError: "INVALID_ARGUMENT",
  MissingContentLength: "INVALID_ARGUMENT",
  IncompleteBody: "INVALID_ARGUMENT",
  QuotaExceeded: "QUOTA_EXCEEDED",
  // A missing bucket is a deployment problem the caller cannot fix: the store is unavailable.
  NoSuchBucket: "UNAVAILABLE",
  SlowDown: "UNAVAILABLE",
  ServiceUnavailable: "UNAVAILABLE",
  InternalError: "UNAVAILABLE",
  RequestTimeout: "UNAVAILABLE",
  TimeoutError: "UNAVAILABLE",
  AbortError: "CANCELLED",
  // Swift's s3api: conditional PUTs, aws-chunked bodies, … A missing feature, not an outage.
  NotImplemented: "UNSUPPORTED",
};

const byStatus: Readonly<Record<number, ErrorCode>> = {
  304: "PRECONDITION_FAILED",
  400: "INVALID_ARGUMENT",
  401: "PERMISSION_DENIED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "PRECONDITION_FAILED",
  411: "INVALID_ARGUMENT",
  412: "PRECONDITION_FAILED",
  413: "PAYLOAD_TOO_LARGE",
  416: "RANGE_NOT_SATISFIABLE",
  500: "UNAVAILABLE",
  501: "UNSUPPORTED",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  504: "UNAVAILABLE",
};

const networkErrors = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** The error code for an SDK, network or body error. */
export function s3ErrorCode(error: unknown): ErrorCode {
  if (error instanceof WharfError) return error.code;
  const e = error as {
    name?: string;
    Code?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
  } | null;
  const name = e?.Code ?? e?.name;
  if (name !== undefined && byName[name] !== undefined) return byName[name];
  if (e?.code !== undefined && networkErrors.has(e.code)) return "UNAVAILABLE";
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && byStatus[status] !== undefined) return byStatus[status];
  return "INTERNAL";
}

/**
 * What went wrong, for a failure with no S3 error code: a TLS or socket error's code and message
 * (`SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain`), or its name and message.
 */
function cause(error: unknown): string {
  const e = error as { name?: string; code?: unknown; message?: unknown } | null;
  const label = typeof e?.code === "string" ? e.code : e?.name && e.name !== "Error" ? e.name : undefined;
  const message = typeof e?.message === "string" && e.message !== "" ? e.message : undefined;
  if (label && message && label !== message) return `${label}: ${message}`;
  return label ?? message ?? "error";
}

/**
 * How hard the SDK tried before giving up, from the retry middleware's record on the error
 * (`$metadata.attempts`, `$metadata.totalRetryDelay`): `; 3 attempts, 0.4 s of back-off`.
 */
function retried(error: unknown): string {
  const metadata = (error as { $metadata?: { attempts?: unknown; totalRetryDelay?: unknown } } | null)
    ?.$metadata;
  const attempts = metadata?.attempts;
  if (typeof attempts !== "number" || attempts < 2) return "";
  const delay = typeof metadata?.totalRetryDelay === "number" ? metadata.totalRetryDelay : 0;
  return `; ${attempts} attempts, ${(delay / 1000).toFixed(1)} s of back-off`;
}

/** The store's own explanation of a refusal (its error document's Message), bounded. */
function serverMessage(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === "string" && message !== "" ? message.slice(0, 200) : "no reason given";
}

/** Translates any failure at the S3 driver's boundary into a WharfError. */
export function translateS3Error(error: unknown, key?: string): WharfError {
  if (error instanceof WharfError) return error;
  const code = s3ErrorCode(error);
  const name = (error as { name?: string } | null)?.name;
  const messages: Partial<Record<ErrorCode, string>> = {
    NOT_FOUND: `no object at ${key}`,
    PRECONDITION_FAILED: `precondition failed at ${key}`,
    PERMISSION_DENIED: "the S3 service refused our credentials",
    RANGE_NOT_SATISFIABLE: "range not satisfiable",
    CHECKSUM_MISMATCH: "the body does not match its checksum",
    UNAVAILABLE: `the S3 service is unavailable (${cause(error)}${retried(error)})`,
    CANCELLED: "operation cancelled",
    UNSUPPORTED: `the S3 service does not implement this request: ${serverMessage(error)}`,
  };
  const message =
    name === "NoSuchBucket"
      ? "the bucket does not exist"
      : (messages[code] ?? `S3 request failed (${cause(error)})`);
  return new WharfError(code, message, {
    cause: error,
    ...(key === undefined ? {} : { details: { key } }),
  });
}
