import { type ErrorCode, WharfError } from "@wharf/errors";

/** The S3 error codes the verifiers report in `details.s3Code`, as Ceph RGW would answer. */
export type S3ErrorCode =
  | "AccessDenied"
  | "EntityTooLarge"
  | "EntityTooSmall"
  | "InvalidAccessKeyId"
  | "InvalidArgument"
  | "InvalidPolicyDocument"
  | "SignatureDoesNotMatch";

const wharfCodes: Record<S3ErrorCode, ErrorCode> = {
  AccessDenied: "PERMISSION_DENIED",
  EntityTooLarge: "PAYLOAD_TOO_LARGE",
  EntityTooSmall: "INVALID_ARGUMENT",
  InvalidAccessKeyId: "PERMISSION_DENIED",
  InvalidArgument: "INVALID_ARGUMENT",
  InvalidPolicyDocument: "INVALID_ARGUMENT",
  SignatureDoesNotMatch: "PERMISSION_DENIED",
};

/** HTTP status an S3 server answers with for each code. */
export const s3Status: Record<S3ErrorCode, number> = {
  AccessDenied: 403,
  EntityTooLarge: 400,
  EntityTooSmall: 400,
  InvalidAccessKeyId: 403,
  InvalidArgument: 400,
  InvalidPolicyDocument: 400,
  SignatureDoesNotMatch: 403,
};

/** A verification failure: `code` for Wharf's transports, `details.s3Code` for S3-shaped answers. */
export function s3Error(
  s3Code: S3ErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): WharfError {
  return new WharfError(wharfCodes[s3Code], message, { details: { ...details, s3Code } });
}

/** A caller's mistake in signing input (not a verification verdict). */
export function invalidArgument(message: string): WharfError {
  return new WharfError("INVALID_ARGUMENT", message);
}
