import { setTimeout as delay } from "node:timers/promises";
import type { LoginAttempt, LoginGuard } from "@wharf/auth-jwt";
import type { Logger } from "pino";
import type { AuthContext, ParsedKey } from "ssh2";
import type { Authenticator, Principal } from "../core/auth.ts";
import { findKey, parseAuthorizedKeys, signatureAllowed } from "../core/authorized-keys.ts";
import type { UserConfig } from "../core/config.ts";
import type { FtpMetrics } from "../core/metrics.ts";

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

  async function refuse(ctx: AuthContext, attempt: LoginAttempt, log: Logger, counted: boolean) {
    if (counted) {
      const lockout = attempt.fail();
      metrics.logins.inc({ result: "failure" });
      log.info({ login: ctx.username, method: ctx.method }, "login failed");
      if (lockout) {
        metrics.lockouts.inc({ by: lockout.by });
        log.warn(
          { login: ctx.username, lockedBy: lockout.by, until: new Date(lockout.until) },
          "login locked out",
        );
      }
      if (options.failureDelayMs > 0) await delay(options.failureDelayMs);
    } else attempt.release();
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
    if (ctx.method !== "password" && ctx.method !== "publickey")
      return void ctx.reject(["publickey", "password"]);
    // The same guard as FTP's PASS: per address and per user name, attempts in flight counted.
    const admission = await guard.begin({ address: ip, user: ctx.username });
    if ("lockout" in admission) {
      metrics.logins.inc({ result: "locked" });
      log.info(
        { login: ctx.username, lockedBy: admission.lockout.by, until: new Date(admission.lockout.until) },
        "login refused: locked out",
      );
      return void ctx.reject([]);
    }
    const { attempt } = admission;
    if (ctx.method === "password") {
      let principal: Principal | undefined;
      try {
        principal = await options.authenticator.authenticate(ctx.username, ctx.password);
      } catch (error) {
        attempt.release();
        throw error;
      }
      if (!principal) return void (await refuse(ctx, attempt, log, true));
      return accept(ctx, attempt, log, principal);
    }
    const { key, principal } = byKey(ctx);
    if (!key || !principal) {
      log.info({ login: ctx.username, keyType: ctx.key.algo }, "public key not authorized");
      return void (await refuse(ctx, attempt, log, false));
    }
    // Without a signature the client only asks whether the key would do (RFC 4252, 7).
    if (!ctx.signature || !ctx.blob) {
      attempt.release();
      return void ctx.accept();
    }
    const valid =
      signatureAllowed(key.type, ctx.hashAlgo) && key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true;
    if (!valid) return void (await refuse(ctx, attempt, log, true));
    return accept(ctx, attempt, log, principal);
  }

  function accept(ctx: AuthContext, attempt: LoginAttempt, log: Logger, principal: Principal): Principal {
    attempt.succeed();
    metrics.logins.inc({ result: "success" });
    log.info({ login: principal.login, via: principal.via, access: principal.access }, "logged in");
    ctx.accept();
    return principal;
  }

  return { authenticate };
}
