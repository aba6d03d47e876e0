import { type ErrorCode, isWharfError } from "@wharf/errors";

/** SFTP v3 status codes (draft-ietf-secsh-filexfer-02, section 7). */
export const Status = {
  OK: 0,
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  OP_UNSUPPORTED: 8,
} as const;

export type StatusCode = (typeof Status)[keyof typeof Status];

/** The one table from error code to SFTP status. A new code fails to compile until it is mapped here. */
export const sftpStatusByCode: Readonly<
  Record<ErrorCode, { readonly status: StatusCode; readonly text: string }>
> = {
  INVALID_ARGUMENT: { status: Status.FAILURE, text: "File name not allowed." },
  UNAUTHENTICATED: { status: Status.PERMISSION_DENIED, text: "Not logged in." },
  PERMISSION_DENIED: { status: Status.PERMISSION_DENIED, text: "Permission denied." },
  NOT_FOUND: { status: Status.NO_SUCH_FILE, text: "No such file or directory." },
  ALREADY_EXISTS: { status: Status.FAILURE, text: "File exists." },
  PRECONDITION_FAILED: { status: Status.FAILURE, text: "File busy, try again." },
  CHECKSUM_MISMATCH: { status: Status.FAILURE, text: "Transfer corrupted, nothing stored." },
  RANGE_NOT_SATISFIABLE: { status: Status.EOF, text: "End of file." },
  PAYLOAD_TOO_LARGE: { status: Status.FAILURE, text: "Exceeded storage allocation." },
  QUOTA_EXCEEDED: { status: Status.FAILURE, text: "Exceeded storage allocation." },
  UNSUPPORTED: { status: Status.OP_UNSUPPORTED, text: "Operation not supported by this store." },
  UNAVAILABLE: { status: Status.FAILURE, text: "Storage unavailable, try again later." },
  CANCELLED: { status: Status.FAILURE, text: "Transfer aborted, nothing stored." },
  INTERNAL: { status: Status.FAILURE, text: "Local error in processing." },
};

/**
 * The status for any thrown value. Driver messages may name storage keys, so only a text this app
 * wrote for the user (`details.reply`, as on the FTP side) replaces the table's generic text.
 */
export function statusFor(error: unknown): { status: StatusCode; text: string } {
  if (!isWharfError(error)) return sftpStatusByCode.INTERNAL;
  const entry = sftpStatusByCode[error.code];
  const text = error.details?.reply;
  return typeof text === "string" ? { status: entry.status, text } : entry;
}
