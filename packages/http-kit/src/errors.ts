import { type ErrorCode, isWharfError, WharfError } from "@wharf/errors";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The one table from error code to HTTP status. A new code fails to compile until it is mapped. */
export const httpStatusByCode: Readonly<Record<ErrorCode, ContentfulStatusCode>> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PRECONDITION_FAILED: 412,
  CHECKSUM_MISMATCH: 422,
  RANGE_NOT_SATISFIABLE: 416,
  PAYLOAD_TOO_LARGE: 413,
  QUOTA_EXCEEDED: 507,
  UNSUPPORTED: 501,
  UNAVAILABLE: 503,
  CANCELLED: 499 as ContentfulStatusCode,
  INTERNAL: 500,
};

/** Codes whose message may name internals; every other code's message is written for the caller. */
const serverSide = new Set<ErrorCode>(["UNAVAILABLE", "CANCELLED", "INTERNAL"]);

/** Any thrown value as a WharfError; unknown errors become `INTERNAL` with the original as cause. */
export function toWharfError(error: unknown): WharfError {
  if (isWharfError(error)) return error;
  return new WharfError("INTERNAL", "internal error", { cause: error });
}

/** The message safe to show a client: 5xx-class codes never echo internals. */
export function publicMessage(error: WharfError): string {
  if (!serverSide.has(error.code)) return error.message;
  return error.code === "UNAVAILABLE"
    ? "the storage backend is unavailable, try again later"
    : "internal error";
}
