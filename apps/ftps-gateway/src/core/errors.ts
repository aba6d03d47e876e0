import { type ErrorCode, WharfError } from "@wharf/errors";

/**
 * A WharfError whose message is written for the person at the client: each front-end shows
 * `details.reply` as is (FTP in its reply, SFTP in its status message) instead of its table's text.
 */
export function userError(code: ErrorCode, text: string): WharfError {
  return new WharfError(code, text, { details: { reply: text } });
}
