import { WharfError } from "@wharf/errors";

/**
 * Why a credential was refused. The verifier reports the first eight; credential extraction adds
 * `missing` (nothing presented) and `unsupported_scheme` (an `Authorization` scheme not accepted here).
 */
export type AuthFailureReason =
  | "expired"
  | "not_yet_valid"
  | "bad_signature"
  | "malformed"
  | "alg_not_allowed"
  | "claim_missing"
  | "claim_mismatch"
  | "key_unavailable"
  | "missing"
  | "unsupported_scheme";

const messages: Record<AuthFailureReason, string> = {
  expired: "the token has expired",
  not_yet_valid: "the token is not valid yet",
  bad_signature: "the token signature is invalid",
  malformed: "the credentials are malformed",
  alg_not_allowed: "the token's signing algorithm is not accepted",
  claim_missing: "the token lacks a required claim",
  claim_mismatch: "the token's claims are not accepted here",
  key_unavailable: "no key is known for this token",
  missing: "credentials are required",
  unsupported_scheme: "this authorization scheme is not accepted",
};

/**
 * An `UNAUTHENTICATED` WharfError with `details.reason` (and `details.claim` for claim failures).
 *
 * @example
 * throw authFailure("expired");
 */
export function authFailure(
  reason: AuthFailureReason,
  options: { claim?: string; message?: string; cause?: unknown } = {},
): WharfError {
  const claim = options.claim;
  const message =
    options.message ??
    (claim && reason === "claim_missing"
      ? `the token lacks the "${claim}" claim`
      : claim && reason === "claim_mismatch"
        ? `the token's "${claim}" claim is not accepted here`
        : messages[reason]);
  const details: Record<string, unknown> = { reason };
  if (claim) details.claim = claim;
  return new WharfError("UNAUTHENTICATED", message, { cause: options.cause, details });
}

/** The `details.reason` of an auth failure, if `error` is one. */
export function authFailureReason(error: unknown): AuthFailureReason | undefined {
  if (!(error instanceof WharfError)) return undefined;
  const reason = error.details?.reason;
  return typeof reason === "string" && reason in messages ? (reason as AuthFailureReason) : undefined;
}
