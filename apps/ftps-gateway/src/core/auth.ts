import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from "node:crypto";
import {
  can,
  generateSalt,
  type PasswordHash,
  scopesFromClaims,
  type Verifier,
  verifyPassword,
} from "@wharf/auth-jwt";
import { isWharfError } from "@wharf/errors";
import type { UserConfig } from "./config.ts";

/** Who a session runs as once PASS succeeded. */
export interface Principal {
  readonly login: string;
  /** Key prefix of the user's root ("" = the store root). */
  readonly home: string;
  readonly access: "rw" | "ro";
  readonly via: "password" | "jwt" | "publickey";
}

export interface AuthenticatorOptions {
  readonly users: readonly UserConfig[];
  /** JWT as password: verifier plus the home template (`{user}` is replaced by the login). */
  readonly jwt?: { readonly verifier: Verifier; readonly home: string };
  /** The PBKDF2 check (default `verifyPassword`); tests count its calls. */
  readonly verifyPassword?: (password: string, stored: PasswordHash) => Promise<boolean>;
}

const jwtShape = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/**
 * Checks USER/PASS against the configured users (plain or aioftps3 PBKDF2 pair), or a JWT given as
 * the password: its `sub` (or `username`) must equal the login and its scopes must allow `ftp/<login>`
 * (`write` → read-write, `read` → read-only). A PBKDF2 check costs ~1M iterations, so a successful
 * one is remembered as an HMAC under a per-process key and later logins of that user are cheap.
 * Plain passwords are kept as such an HMAC from the start: a PASS costs one HMAC of what was sent and
 * a constant-time comparison of two digests.
 * When any user has a hashed password, every refused password costs one PBKDF2 derivation, whether
 * the user is unknown, has a plain password or a hashed one, so the time of a 530 names no user.
 */
export function createAuthenticator(options: AuthenticatorOptions) {
  const users = new Map(options.users.map((user) => [user.login, user]));
  const verify = options.verifyPassword ?? verifyPassword;
  const decoy: PasswordHash | undefined = options.users.some((user) => user.password === undefined)
    ? { hash: randomBytes(32).toString("base64"), salt: generateSalt() }
    : undefined;
  const cacheKey = createSecretKey(randomBytes(32));
  // Fixed-length digests of login and password, compared with timingSafeEqual.
  const fingerprint = (login: string, password: string) =>
    createHmac("sha256", cacheKey).update(`${login}\0${password}`).digest();
  const plain = new Map<string, Buffer>();
  for (const user of options.users)
    if (user.password !== undefined) plain.set(user.login, fingerprint(user.login, user.password));
  const verified = new Map<string, Buffer>();

  async function passwordMatches(user: UserConfig | undefined, password: string): Promise<boolean> {
    if (user && user.password === undefined) return hashMatches(user, password);
    if (user && timingSafeEqual(fingerprint(user.login, password), plain.get(user.login)!)) return true;
    // An unknown user or a wrong plain password: the work of a wrong hashed one, against a random hash.
    if (decoy) await verify(password, decoy);
    return false;
  }

  async function hashMatches(user: UserConfig, password: string): Promise<boolean> {
    const print = fingerprint(user.login, password);
    const known = verified.get(user.login);
    if (known !== undefined && timingSafeEqual(print, known)) return true;
    const ok = await verify(password, { hash: user.passwordHashed!, salt: user.passwordSalt! });
    if (ok) verified.set(user.login, print);
    return ok;
  }

  async function viaJwt(login: string, token: string): Promise<Principal | undefined> {
    if (!options.jwt || !jwtShape.test(token)) return undefined;
    try {
      const claims = await options.jwt.verifier.verify(token);
      if (claims.sub !== login && claims.username !== login) return undefined;
      const scopes = scopesFromClaims(claims);
      const resource = `ftp/${login}`;
      const access = can(scopes, resource, "write") ? "rw" : can(scopes, resource, "read") ? "ro" : undefined;
      if (!access) return undefined;
      const home = options.jwt.home.replaceAll("{user}", login).replace(/^\/+|\/+$/g, "");
      return { login, home, access, via: "jwt" };
    } catch (error) {
      if (isWharfError(error, "UNAUTHENTICATED")) return undefined;
      throw error;
    }
  }

  /** The principal, or `undefined` for any wrong login (one answer for unknown users and bad passwords). */
  async function authenticate(login: string, password: string): Promise<Principal | undefined> {
    const user = users.get(login);
    // Every refused password costs the same work (an unknown user's too): no user enumeration.
    const matches = await passwordMatches(user, password);
    if (matches && !user!.keysOnly) return { login, home: user!.home, access: user!.access, via: "password" };
    if (user?.keysOnly) return undefined;
    return viaJwt(login, password);
  }

  return { authenticate };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
