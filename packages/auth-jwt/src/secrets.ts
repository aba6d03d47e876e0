import { createHmac, createSecretKey, pbkdf2, randomBytes, randomInt, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import { WharfError } from "@wharf/errors";

const pbkdf2Async = promisify(pbkdf2);
// A KeyObject, not a Buffer: an HMAC keyed with a Buffer costs about 6 times as much (Node 24 makes a
// key object from it on every call), and every FTP PASS compares through here.
const compareKey = createSecretKey(randomBytes(32));

/**
 * Compares two secrets in time independent of where they differ and of their lengths (both sides
 * are reduced to an HMAC first).
 *
 * @example
 * constantTimeEqual(presented, expected);
 */
export function constantTimeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const digestA = createHmac("sha256", compareKey).update(a).digest();
  const digestB = createHmac("sha256", compareKey).update(b).digest();
  return timingSafeEqual(digestA, digestB) && Buffer.byteLength(a) === Buffer.byteLength(b);
}

/** aioftps3's iteration count. */
export const defaultPasswordIterations = 1_000_000;

/** A stored password: both fields as aioftps3's `PASSWORD_HASHED` and `PASSWORD_SALT` hold them. */
export interface PasswordHash {
  /** base64 of PBKDF2-HMAC-SHA256(password, salt), 32 bytes. */
  readonly hash: string;
  /** The salt as text (aioftps3: 64 characters), used as its bytes. */
  readonly salt: string;
}

const saltAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A random salt of `length` alphanumeric characters (default 64, as aioftps3's create_password.py). */
export function generateSalt(length = 64): string {
  let salt = "";
  for (let i = 0; i < length; i++) salt += saltAlphabet[randomInt(saltAlphabet.length)];
  return salt;
}

/**
 * Hashes a password in aioftps3's format: base64(PBKDF2-HMAC-SHA256(password, salt, 1,000,000)).
 * Texts are encoded as UTF-8, which equals aioftps3's ASCII for every password it accepts.
 *
 * @example
 * const { hash, salt } = await hashPassword("kOcAeOQ7Pc");
 */
export async function hashPassword(
  password: string,
  options: { salt?: string; iterations?: number } = {},
): Promise<PasswordHash> {
  if (password.length === 0) throw new WharfError("INVALID_ARGUMENT", "the password is empty");
  const salt = options.salt ?? generateSalt();
  const derived = await derive(password, salt, options.iterations ?? defaultPasswordIterations);
  return { hash: derived.toString("base64"), salt };
}

/**
 * True when `password` matches the stored hash; the comparison is constant-time. An empty password
 * or a hash that is not 32 bytes of base64 never matches.
 *
 * @example
 * await verifyPassword("kOcAeOQ7Pc", { hash: user.passwordHashed, salt: user.passwordSalt });
 */
export async function verifyPassword(
  password: string,
  stored: PasswordHash,
  options: { iterations?: number } = {},
): Promise<boolean> {
  const expected = Buffer.from(stored.hash, "base64");
  const derived = await derive(password, stored.salt, options.iterations ?? defaultPasswordIterations);
  if (password.length === 0 || expected.length !== derived.length) return false;
  return timingSafeEqual(derived, expected);
}

function derive(password: string, salt: string, iterations: number): Promise<Buffer> {
  if (!Number.isSafeInteger(iterations) || iterations < 1) {
    throw new WharfError("INVALID_ARGUMENT", "iterations must be a positive integer");
  }
  return pbkdf2Async(Buffer.from(password, "utf8"), Buffer.from(salt, "utf8"), iterations, 32, "sha256");
}
