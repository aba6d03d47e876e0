import { WharfError } from "@wharf/errors";

/** The caller, once the token and its DataHub claims have been checked. */
export interface Principal {
  readonly userid: string;
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Verifies a token's signature and standard claims (`exp`, …) and returns its payload. */
export interface TokenVerifier {
  verify(token: string): Promise<Readonly<Record<string, unknown>>>;
}

/**
 * The DataHub claims the original checked: `permissions["datapackage-upload"]` truthy,
 * `service` equal to this service's name, and a `userid`. Any failure is `UNAUTHENTICATED` (401),
 * as in the original.
 */
export function principalFromClaims(
  claims: Readonly<Record<string, unknown>>,
  serviceName: string,
): Principal {
  const permissions = claims.permissions;
  const allowed =
    typeof permissions === "object" &&
    permissions !== null &&
    Boolean((permissions as Record<string, unknown>)["datapackage-upload"]);
  if (!allowed) throw unauthenticated("the token does not grant datapackage-upload", "permission_missing");
  if (claims.service !== serviceName) {
    throw unauthenticated(`the token is not for the ${serviceName} service`, "wrong_service");
  }
  const userid = claims.userid;
  if ((typeof userid !== "string" && typeof userid !== "number") || String(userid) === "") {
    throw unauthenticated("the token carries no userid", "claim_missing");
  }
  return { userid: String(userid), claims };
}

/** The original answered 401 when `metadata.owner` differs from the token's user; so do we. */
export function assertOwner(principal: Principal, owner: string): void {
  if (principal.userid !== owner) {
    throw unauthenticated("metadata.owner does not match the token's user", "owner_mismatch");
  }
}

/** A per-user storage limit in bytes from `permissions.max_{public,private}_storage_mb` (MB = 10^6 B). */
export function quotaFromClaims(principal: Principal, isPrivate: boolean): number | undefined {
  const permissions = principal.claims.permissions as Record<string, unknown> | undefined;
  const value = permissions?.[isPrivate ? "max_private_storage_mb" : "max_public_storage_mb"];
  const mb = typeof value === "string" ? Number(value) : value;
  return typeof mb === "number" && Number.isFinite(mb) && mb >= 0 ? Math.floor(mb * 1_000_000) : undefined;
}

function unauthenticated(message: string, reason: string): WharfError {
  return new WharfError("UNAUTHENTICATED", message, { details: { reason } });
}
