import type { Logger } from "pino";
import type { AuthContext, AuthenticationType, ParsedKey } from "ssh2";
import type { Principal } from "../core/auth.ts";
import { findKey, parseAuthorizedKeys, signatureAllowed } from "../core/authorized-keys.ts";
import type { UserConfig } from "../core/config.ts";
import type { Logins } from "../core/login.ts";

export interface SshAuthOptions {
  readonly users: readonly UserConfig[];
  readonly logins: Logins;
}

/**
 * SSH user authentication over the gateway's users: passwords through the core's logins (the same
 * authenticator and lockout as FTP's PASS), public keys against each user's `authorized_keys` lines.
 * A key the user does not have is refused without counting as a failure (clients offer every key
 * they hold, one after another); a bad signature or password counts, as a failed PASS does.
 */
export function createSshAuth(options: SshAuthOptions) {
  const keysByLogin = new Map(
    options.users.map((user) => [user.login, { user, keys: parseAuthorizedKeys(user.authorizedKeys ?? []) }]),
  );
  const { logins } = options;
  const methods: AuthenticationType[] = ["publickey", "password"];

  function byKey(ctx: AuthContext & { method: "publickey" }): { key?: ParsedKey; principal?: Principal } {
    const known = keysByLogin.get(ctx.username);
    const key = known && findKey(known.keys, ctx.key.algo, ctx.key.data);
    if (!known || !key) return {};
    const { user } = known;
    return { key, principal: { login: user.login, home: user.home, access: user.access, via: "publickey" } };
  }

  /** Answers one authentication request; resolves with the principal once the user is in. */
  async function authenticate(ctx: AuthContext, ip: string, log: Logger): Promise<Principal | undefined> {
    if (ctx.method !== "password" && ctx.method !== "publickey") return void ctx.reject(methods);
    if (ctx.method === "password") {
      const result = await logins.password("sftp", {
        address: ip,
        login: ctx.username,
        password: ctx.password,
        log,
      });
      if (result.kind !== "ok") return void ctx.reject(result.kind === "locked" ? [] : methods);
      ctx.accept();
      return result.principal;
    }
    // The same guard as FTP's PASS: per address and per user name, attempts in flight counted.
    const admission = await logins.begin("sftp", ip, ctx.username, log);
    if ("lockout" in admission) return void ctx.reject([]);
    const { attempt } = admission;
    const { key, principal } = byKey(ctx);
    if (!key || !principal) {
      log.info({ login: ctx.username, keyType: ctx.key.algo }, "public key not authorized");
      attempt.release();
      return void ctx.reject(methods);
    }
    // Without a signature the client only asks whether the key would do (RFC 4252, 7).
    if (!ctx.signature || !ctx.blob) {
      attempt.release();
      return void ctx.accept();
    }
    const valid =
      signatureAllowed(key.type, ctx.hashAlgo) && key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true;
    if (!valid) {
      await logins.refuse("sftp", attempt, ctx.username, log, { method: "publickey" });
      return void ctx.reject(methods);
    }
    ctx.accept();
    return logins.accept("sftp", attempt, principal, log);
  }

  return { authenticate };
}
