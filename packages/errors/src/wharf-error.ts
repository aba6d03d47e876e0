/**
 * The closed set of failure kinds every Wharf package reports. Each transport (HTTP, FTP, CLI)
 * maps these in one exhaustive `Record<ErrorCode, …>` table, so adding a code fails to compile
 * until every transport handles it.
 */
export const errorCodes = [
  "INVALID_ARGUMENT",
  "UNAUTHENTICATED",
  "PERMISSION_DENIED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PRECONDITION_FAILED",
  "CHECKSUM_MISMATCH",
  "RANGE_NOT_SATISFIABLE",
  "PAYLOAD_TOO_LARGE",
  "QUOTA_EXCEEDED",
  "UNSUPPORTED",
  "UNAVAILABLE",
  "CANCELLED",
  "INTERNAL",
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/**
 * An error with a stable `code` to switch on. Messages of 4xx-class codes are written for the
 * person who sent the request; `INTERNAL` and `UNAVAILABLE` messages may name internals and must
 * not be echoed to clients.
 *
 * @example
 * throw new WharfError("NOT_FOUND", `no object at ${key}`);
 */
export class WharfError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "WharfError";
    this.code = code;
    this.details = options.details;
  }
}

/** True when `error` is a {@link WharfError}, optionally with one of the given codes. */
export function isWharfError(error: unknown, ...codes: ErrorCode[]): error is WharfError {
  return error instanceof WharfError && (codes.length === 0 || codes.includes(error.code));
}
