import { type ErrorCode, WharfError } from "@wharf/errors";
import { httpStatusByCode } from "@wharf/http-kit";

export const lfsMediaType = "application/vnd.git-lfs+json";

/**
 * HTTP status per error code in the Git LFS API: http-kit's table, except that invalid requests
 * are 422 (the LFS spec's validation error) rather than 400.
 */
export const lfsStatusByCode: Readonly<Record<ErrorCode, number>> = {
  ...httpStatusByCode,
  INVALID_ARGUMENT: 422,
};

/** Statuses a handler may pin through `details.status` when the LFS spec names one no code maps to. */
const pinnable = new Set([406, 409, 410, 413, 415, 422, 507]);

export function lfsStatus(error: WharfError): number {
  const pinned = error.details?.status;
  if (typeof pinned === "number" && pinnable.has(pinned)) return pinned;
  return lfsStatusByCode[error.code];
}

/** A request-level LFS error with the spec's status (e.g. 406, 409 for `hash_algo`). */
export function lfsError(code: ErrorCode, status: number, message: string): WharfError {
  return new WharfError(code, message, { details: { status } });
}

/** The per-object error code the batch response carries (numeric, never a string). */
export function objectErrorCode(error: WharfError): number {
  if (error.code === "NOT_FOUND") return 404;
  if (error.code === "INVALID_ARGUMENT" || error.code === "CHECKSUM_MISMATCH") return 422;
  if (error.code === "PAYLOAD_TOO_LARGE") return 422;
  if (error.code === "PERMISSION_DENIED") return 403;
  return 500;
}

/** Challenge headers that make git-lfs run `git credential fill`. */
export function challengeHeaders(realm: string): Record<string, string> {
  const challenge = `Basic realm="${realm.replace(/["\\]/g, "")}", charset="UTF-8"`;
  return { "LFS-Authenticate": challenge, "WWW-Authenticate": challenge };
}
