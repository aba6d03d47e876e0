import type { ErrorCode } from "@wharf/errors";

/**
 * The one table from error code to process exit status. 0 is success; 1 is reserved for
 * unexpected failures; 2 is a usage or configuration error (as commander and most CLIs use it).
 */
export const exitCodeByCode: Readonly<Record<ErrorCode, number>> = {
  INTERNAL: 1,
  INVALID_ARGUMENT: 2,
  UNAUTHENTICATED: 3,
  PERMISSION_DENIED: 3,
  NOT_FOUND: 4,
  ALREADY_EXISTS: 5,
  PRECONDITION_FAILED: 6,
  CHECKSUM_MISMATCH: 7,
  RANGE_NOT_SATISFIABLE: 8,
  PAYLOAD_TOO_LARGE: 9,
  QUOTA_EXCEEDED: 9,
  UNSUPPORTED: 10,
  UNAVAILABLE: 11,
  CANCELLED: 130,
};
