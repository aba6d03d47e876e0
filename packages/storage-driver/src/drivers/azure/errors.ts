import { type ErrorCode, WharfError } from "@wharf/errors";

/** Azure Storage error codes (`x-ms-error-code`) and what they mean to a caller. */
const byCode: Readonly<Record<string, ErrorCode>> = {
  BlobNotFound: "NOT_FOUND",
  CannotVerifyCopySource: "NOT_FOUND",
  ConditionNotMet: "PRECONDITION_FAILED",
  TargetConditionNotMet: "PRECONDITION_FAILED",
  SourceConditionNotMet: "PRECONDITION_FAILED",
  BlobAlreadyExists: "ALREADY_EXISTS",
  InvalidRange: "RANGE_NOT_SATISFIABLE",
  AuthenticationFailed: "UNAUTHENTICATED",
  NoAuthenticationInformation: "UNAUTHENTICATED",
  AuthorizationFailure: "PERMISSION_DENIED",
  AuthorizationPermissionMismatch: "PERMISSION_DENIED",
  AuthorizationResourceTypeMismatch: "PERMISSION_DENIED",
  InsufficientAccountPermissions: "PERMISSION_DENIED",
  Md5Mismatch: "CHECKSUM_MISMATCH",
  RequestBodyTooLarge: "PAYLOAD_TOO_LARGE",
  InvalidBlockList: "INVALID_ARGUMENT",
  InvalidBlobOrBlock: "INVALID_ARGUMENT",
  InvalidHeaderValue: "INVALID_ARGUMENT",
  InvalidMetadata: "INVALID_ARGUMENT",
  // A missing container is a deployment problem the caller cannot fix: the store is unavailable.
  ContainerNotFound: "UNAVAILABLE",
  ContainerBeingDeleted: "UNAVAILABLE",
  ServerBusy: "UNAVAILABLE",
  InternalError: "UNAVAILABLE",
  OperationTimedOut: "UNAVAILABLE",
  REQUEST_SEND_ERROR: "UNAVAILABLE",
};

const byStatus: Readonly<Record<number, ErrorCode>> = {
  304: "PRECONDITION_FAILED",
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "PRECONDITION_FAILED",
  412: "PRECONDITION_FAILED",
  413: "PAYLOAD_TOO_LARGE",
  416: "RANGE_NOT_SATISFIABLE",
};

const networkErrors = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN"]);

interface RestErrorLike {
  name?: string;
  code?: string;
  statusCode?: number;
  details?: { errorCode?: string };
}

/** The Azure error code of an SDK error (`BlobNotFound`…), when it has one. */
export function azureErrorName(error: unknown): string | undefined {
  const e = error as RestErrorLike | null;
  return e?.details?.errorCode ?? e?.code;
}

/** The WharfError code for an SDK, network or abort error. */
export function azureErrorCode(error: unknown): ErrorCode {
  if (error instanceof WharfError) return error.code;
  const e = error as RestErrorLike | null;
  if (e?.name === "AbortError") return "CANCELLED";
  const name = azureErrorName(error);
  if (name !== undefined && byCode[name] !== undefined) return byCode[name];
  if (name !== undefined && networkErrors.has(name)) return "UNAVAILABLE";
  if (e?.statusCode !== undefined && byStatus[e.statusCode] !== undefined) return byStatus[e.statusCode];
  if (e?.statusCode !== undefined && e.statusCode >= 500) return "UNAVAILABLE";
  return "INTERNAL";
}

/**
 * Translates any failure at the Azure driver's boundary into a WharfError. A write that carried
 * `If-None-Match: *` (refused with `BlobAlreadyExists`) or `If-Match` (refused with
 * `BlobNotFound` when nothing is there) is refused with `PRECONDITION_FAILED`, as the contract says.
 */
export function translateAzureError(
  error: unknown,
  key?: string,
  options: { ifNoneMatch?: boolean; ifMatch?: boolean } = {},
): WharfError {
  if (error instanceof WharfError) return error;
  let code = azureErrorCode(error);
  if (code === "ALREADY_EXISTS" && options.ifNoneMatch) code = "PRECONDITION_FAILED";
  if (code === "NOT_FOUND" && options.ifMatch) code = "PRECONDITION_FAILED";
  const messages: Partial<Record<ErrorCode, string>> = {
    NOT_FOUND: `no object at ${key}`,
    PRECONDITION_FAILED: `precondition failed at ${key}`,
    ALREADY_EXISTS: `an object already exists at ${key}`,
    UNAUTHENTICATED: "the Azure Storage service refused our credentials",
    PERMISSION_DENIED: "the Azure Storage service denied access",
    RANGE_NOT_SATISFIABLE: "range not satisfiable",
    UNAVAILABLE: "the Azure Storage service is unavailable",
    CANCELLED: "operation cancelled",
  };
  return new WharfError(code, messages[code] ?? `Azure Storage request failed (${azureErrorName(error)})`, {
    cause: error,
    ...(key === undefined ? {} : { details: { key } }),
  });
}
