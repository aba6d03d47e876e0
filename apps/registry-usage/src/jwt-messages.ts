import { WharfError } from "@wharf/errors";

const bearerMissing =
  "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'";

/**
 * The `msg` Flask-JWT-Extended 4 (over PyJWT 2) answered for the same refusal, so clients of the
 * original that match on it keep working: `Missing Authorization Header`, `Token has expired`,
 * `Signature verification failed`, `Not enough segments`, …
 */
export function flaskJwtMessage(error: WharfError, authorization: string | undefined): string {
  const reason = error.details?.reason;
  const claim = typeof error.details?.claim === "string" ? error.details.claim : undefined;
  const header = authorization?.trim() ?? "";
  switch (reason) {
    case "missing":
    case "unsupported_scheme":
      return header === "" ? "Missing Authorization Header" : bearerMissing;
    case "expired":
      return "Token has expired";
    case "bad_signature":
      return "Signature verification failed";
    case "not_yet_valid":
      return "The token is not yet valid (nbf)";
    case "alg_not_allowed":
      return "The specified alg value is not allowed";
    case "claim_missing":
      return claim === "sub" ? "Missing claim: sub" : `Token is missing the "${claim ?? "exp"}" claim`;
    case "malformed":
      return claim === undefined ? decodeMessage(header.replace(/^Bearer\s+/i, "")) : error.message;
    default:
      return error.message;
  }
}

/** PyJWT's DecodeError text for a token that does not parse. */
function decodeMessage(token: string): string {
  const parts = token.split(".");
  if (parts.length < 3) return "Not enough segments";
  const [header = "", payload = "", signature = ""] = [parts[0], parts.slice(1, -1).join("."), parts.at(-1)];
  if (!isBase64Url(header)) return "Invalid header padding";
  try {
    JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
  } catch {
    return "Invalid header string";
  }
  if (!isBase64Url(payload)) return "Invalid payload padding";
  if (!isBase64Url(signature)) return "Invalid crypto padding";
  return "Invalid payload string";
}

function isBase64Url(text: string): boolean {
  return /^[A-Za-z0-9_-]*$/.test(text) && text.length % 4 !== 1;
}

/** The refusal with Flask-JWT-Extended's text added as `details.msg` (what the error body's `msg` shows). */
export function withFlaskJwtMessage(error: WharfError, authorization: string | undefined): WharfError {
  return new WharfError(error.code, error.message, {
    cause: error.cause ?? error,
    details: { ...error.details, msg: flaskJwtMessage(error, authorization) },
  });
}
