import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "pino";
import type { AuthContext, ParsedKey } from "ssh2";
import type { Authenticator, LoginGuard, Principal } from "../auth.ts";
import type { UserConfig } from "../config.ts";
import type { FtpMetrics } from "../metrics.ts";
import { findKey, parseAuthorizedKeys, signatureAllowed } from "./authorized-keys.ts";

export interface SshAuthOptions {
  readonly users: readonly UserConfig[];
  readonly authenticator: Authenticator;
  readonly guard: LoginGuard;
  readonly metrics: FtpMetrics;
  readonly failureDelayMs: number;
}

/**
 * SSH user authentication over the gateway's users: passwords through the same authenticator and
 * per-address lockout as FTP's PASS, public keys against each user's `authorized_keys` lines. A key
 * the user does not have is refused without counting as a failure (clients offer every key they
 * hold, one after another); a bad signature or password counts, as a failed PASS does.
 */
export function createSshAuth(options: SshAuthOptions) {
  const keysByLogin = new Map(
    options.users.map((user) => [user.login, { user, keys: parseAuthorizedKeys(user.authorizedKeys ?? []) }]),
  );
  const { guard, metrics } = options;

  async function refuse(ctx: AuthContext, ip: string, log: Logger, counted: boolean) {
    if (counted) {
      guard.fail(ip);
      metrics.logins.inc({ result: "failure" });
      log.info({ login: ctx.username, method: ctx.method }, "login failed");
      if (options.failureDelayMs > 0) await delay(options.failureDelayMs);
    }
    ctx.reject(["publickey", "password"]);
  }

  function byKey(ctx: AuthContext & { method: "publickey" }): { key?: ParsedKey; principal?: Principal } {
    const known = keysByLogin.get(ctx.username);
    const key = known && findKey(known.keys, ctx.key.algo, ctx.key.data);
    if (!known || !key) return {};
    const { user } = known;
    return { key, principal: { login: user.login, home: user.home, access: user.access, via: "publickey" } };
  }

  /**
   * Answers one authentication request; resolves with the principal once the user is in. `locked`
   * is called when the address is locked out (the caller disconnects).
   */
  async function authenticate(ctx: AuthContext, ip: string, log: Logger): Promise<Principal | undefined> {
    if (ctx.method === "none") return void ctx.reject(["publickey", "password"]);
    if (guard.isLocked(ip)) {
      metrics.logins.inc({ result: "locked" });
      log.info({ login: ctx.username }, "login refused: too many failed logins from this address");
      return void ctx.reject([]);
    }
    if (ctx.method === "password") {
      const principal = await options.authenticator.authenticate(ctx.username, ctx.password);
      if (!principal) return void (await refuse(ctx, ip, log, true));
      return accept(ctx, ip, log, principal);
    }
    if (ctx.method === "publickey") {
      const { key, principal } = byKey(ctx);
      if (!key || !principal) {
        log.info({ login: ctx.username, keyType: ctx.key.algo }, "public key not authorized");
        return void (await refuse(ctx, ip, log, false));
      }
      // Without a signature the client only asks whether the key would do (RFC 4252, 7).
      if (!ctx.signature || !ctx.blob) return void ctx.accept();
      const valid =
        signatureAllowed(key.type, ctx.hashAlgo) &&
        key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true;
      if (!valid) return void (await refuse(ctx, ip, log, true));
      return accept(ctx, ip, log, principal);
    }
    return void ctx.reject(["publickey", "password"]);
  }

  function accept(ctx: AuthContext, ip: string, log: Logger, principal: Principal): Principal {
    guard.succeed(ip);
    metrics.logins.inc({ result: "success" });
    log.info({ login: principal.login, via: principal.via, access: principal.access }, "logged in");
    ctx.accept();
    return principal;
  }

  return { authenticate };
}
