import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { WharfError } from "@wharf/errors";

export const hmacAlgorithms = ["HS256", "HS384", "HS512"] as const;
export const asymmetricAlgorithms = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;

/** A JWS algorithm Wharf accepts. `none` is not one, and never will be. */
export type Algorithm = (typeof hmacAlgorithms)[number] | (typeof asymmetricAlgorithms)[number];
export type HmacAlgorithm = (typeof hmacAlgorithms)[number];

const allAlgorithms: ReadonlySet<string> = new Set([...hmacAlgorithms, ...asymmetricAlgorithms]);

export function isAlgorithm(value: unknown): value is Algorithm {
  return typeof value === "string" && allAlgorithms.has(value);
}

export function isHmac(algorithm: Algorithm): algorithm is HmacAlgorithm {
  return algorithm.startsWith("HS");
}

const curveByAlgorithm: Record<string, string> = {
  ES256: "prime256v1",
  ES384: "secp384r1",
  ES512: "secp521r1",
};

/** True when an asymmetric key may sign or verify `algorithm` (RSA keys of at least 2048 bits). */
export function keyFitsAlgorithm(key: KeyObject, algorithm: Algorithm): boolean {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails;
  switch (algorithm.slice(0, 2)) {
    case "RS":
      return type === "rsa" && (details?.modulusLength ?? 0) >= 2048;
    case "PS":
      return (type === "rsa" || type === "rsa-pss") && (details?.modulusLength ?? 0) >= 2048;
    case "ES":
      return type === "ec" && details?.namedCurve === curveByAlgorithm[algorithm];
    case "Ed":
      return type === "ed25519";
    default:
      return false;
  }
}

/** The natural signing algorithm for an asymmetric key (RS256, ES256/384/512, EdDSA). */
export function defaultAlgorithmFor(key: KeyObject): Algorithm | undefined {
  return asymmetricAlgorithms.find(
    (algorithm) => !algorithm.startsWith("PS") && keyFitsAlgorithm(key, algorithm),
  );
}

function looksLikePem(value: string | Uint8Array): boolean {
  const text = typeof value === "string" ? value : Buffer.from(value.subarray(0, 64)).toString("latin1");
  return text.trimStart().startsWith("-----BEGIN");
}

/**
 * An HMAC secret as bytes. A PEM document is refused: a public key used as an HMAC secret is the
 * classic HS/RS confusion attack, and a private key there is a configuration mistake.
 */
export function loadSecret(secret: string | Uint8Array): Uint8Array {
  if (looksLikePem(secret)) {
    throw new WharfError("INVALID_ARGUMENT", "an HMAC secret must not be a PEM key");
  }
  const bytes = typeof secret === "string" ? new TextEncoder().encode(secret) : new Uint8Array(secret);
  if (bytes.length === 0) throw new WharfError("INVALID_ARGUMENT", "the HMAC secret is empty");
  return bytes;
}

/** A public key from PEM (SPKI, PKCS#1 or an X.509 certificate) or a KeyObject. */
export function loadPublicKey(key: string | KeyObject): KeyObject {
  if (typeof key !== "string") {
    if (key.type === "secret")
      throw new WharfError("INVALID_ARGUMENT", "publicKey must be an asymmetric key");
    return key.type === "private" ? createPublicKey(key) : key;
  }
  try {
    return createPublicKey(key);
  } catch (cause) {
    throw new WharfError("INVALID_ARGUMENT", "publicKey is not a PEM public key or certificate", { cause });
  }
}

/** A private key from PEM (PKCS#8, PKCS#1 or SEC1) or a KeyObject. */
export function loadPrivateKey(key: string | KeyObject): KeyObject {
  if (typeof key !== "string") {
    if (key.type !== "private") throw new WharfError("INVALID_ARGUMENT", "privateKey must be a private key");
    return key;
  }
  try {
    return createPrivateKey(key);
  } catch (cause) {
    throw new WharfError("INVALID_ARGUMENT", "privateKey is not a PEM private key", { cause });
  }
}
