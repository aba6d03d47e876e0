import { type ErrorCode, isWharfError } from "@wharf/errors";

/** The one table from error code to FTP reply. A new code fails to compile until it is mapped here. */
export const ftpReplyByCode: Readonly<Record<ErrorCode, { readonly code: number; readonly text: string }>> = {
  INVALID_ARGUMENT: { code: 553, text: "Requested action not taken. File name not allowed." },
  UNAUTHENTICATED: { code: 530, text: "Not logged in." },
  PERMISSION_DENIED: { code: 550, text: "Permission denied." },
  NOT_FOUND: { code: 550, text: "No such file or directory." },
  ALREADY_EXISTS: { code: 550, text: "File exists." },
  PRECONDITION_FAILED: { code: 450, text: "File busy, try again." },
  CHECKSUM_MISMATCH: { code: 451, text: "Transfer corrupted, nothing stored." },
  RANGE_NOT_SATISFIABLE: { code: 554, text: "Invalid REST parameter." },
  PAYLOAD_TOO_LARGE: { code: 552, text: "Exceeded storage allocation." },
  QUOTA_EXCEEDED: { code: 552, text: "Exceeded storage allocation." },
  UNSUPPORTED: { code: 504, text: "Command not implemented for that parameter." },
  UNAVAILABLE: { code: 451, text: "Storage unavailable, try again later." },
  CANCELLED: { code: 426, text: "Connection closed; transfer aborted." },
  INTERNAL: { code: 451, text: "Local error in processing." },
};

/**
 * The reply for any thrown value. Messages from drivers may name storage keys, so only a text put
 * in `details.reply` by this app (written for the FTP user) replaces the table's generic text.
 */
export function replyFor(error: unknown): { code: number; text: string } {
  if (!isWharfError(error)) return ftpReplyByCode.INTERNAL;
  const reply = ftpReplyByCode[error.code];
  const text = error.details?.reply;
  return typeof text === "string" ? { code: reply.code, text } : reply;
}
