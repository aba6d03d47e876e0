import { createHmac, createSecretKey, timingSafeEqual } from "node:crypto";
import { WharfError } from "@wharf/errors";

/** What a transfer link lets its holder do: one method on one object of one repository. */
export interface LinkClaims {
  readonly method: "GET" | "PUT" | "POST";
  readonly repo: string;
  readonly oid: string;
  readonly size: number;
  /** Binds a direct upload's staging key to its verify link. */
  readonly nonce?: string;
}

export interface LinkSigner {
  /** Query string (`size=…&expires=…&sig=…`) for a link valid `expiresIn` seconds. */
  sign(claims: LinkClaims, expiresIn: number): string;
  /** The signed size and nonce, once the query's signature and expiry hold; `PERMISSION_DENIED` otherwise. */
  verify(
    claims: Omit<LinkClaims, "size" | "nonce">,
    query: URLSearchParams,
  ): { size: number; nonce?: string };
}

/**
 * HMAC-SHA256 transfer links, so proxied uploads, downloads and verify calls need no credentials
 * beyond the link the batch response handed out (like an S3 presigned URL).
 */
export function createLinkSigner(secret: string, now: () => Date = () => new Date()): LinkSigner {
  const key = createSecretKey(Buffer.from(secret));
  const mac = (claims: LinkClaims, expires: number) =>
    createHmac("sha256", key)
      .update(
        `${claims.method}\n${claims.repo}\n${claims.oid}\n${claims.size}\n${claims.nonce ?? ""}\n${expires}`,
      )
      .digest();
  const denied = (why: string) => new WharfError("PERMISSION_DENIED", `transfer link ${why}`);

  return {
    sign(claims, expiresIn) {
      const expires = Math.floor(now().getTime() / 1000) + expiresIn;
      const sig = mac(claims, expires).toString("base64url");
      const nonce = claims.nonce === undefined ? "" : `&nonce=${claims.nonce}`;
      return `size=${claims.size}${nonce}&expires=${expires}&sig=${sig}`;
    },
    verify(claims, query) {
      const size = Number(query.get("size"));
      const expires = Number(query.get("expires"));
      const sig = Buffer.from(query.get("sig") ?? "", "base64url");
      if (!Number.isSafeInteger(size) || size < 0 || !Number.isSafeInteger(expires) || sig.length !== 32)
        throw denied("is malformed");
      const nonce = query.get("nonce") ?? undefined;
      if (nonce !== undefined && !/^[0-9a-f]{1,64}$/.test(nonce)) throw denied("is malformed");
      const expected = mac({ ...claims, size, ...(nonce ? { nonce } : {}) }, expires);
      if (!timingSafeEqual(sig, expected)) throw denied("signature does not match");
      if (expires * 1000 < now().getTime()) throw denied("has expired");
      return nonce ? { size, nonce } : { size };
    },
  };
}
