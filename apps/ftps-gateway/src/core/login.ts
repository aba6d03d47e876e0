import { setTimeout as delay } from "node:timers/promises";
import type { Lockout, LoginAttempt, LoginGuard } from "@wharf/auth-jwt";
import type { Logger } from "pino";
import type { Authenticator, Principal } from "./auth.ts";
import type { GatewayMetrics, Protocol } from "./metrics.ts";

export type PasswordLogin =
  | { readonly kind: "ok"; readonly principal: Principal }
  | { readonly kind: "refused" }
  | { readonly kind: "locked"; readonly lockout: Lockout }
  /** The client went away while the attempt waited its turn: nothing was checked. */
  | { readonly kind: "gone" };

/**
 * Logins for every front-end on one guard (per address and per user name, attempts in flight
 * counted), so failures over FTP and SFTP lock out alike. Counts each attempt in
 * `ftps_gateway_logins_total{protocol,result}`, logs it without secrets, and waits the failure delay
 * after each refusal.
 */
export function createLogins(options: {
  readonly authenticator: Authenticator;
  readonly guard: LoginGuard;
  readonly metrics: GatewayMetrics;
  readonly failureDelayMs: number;
}) {
  const { guard, metrics } = options;

  /** Admits one attempt, or answers with the lockout that refuses it (counted and logged). */
  async function begin(
    protocol: Protocol,
    address: string,
    login: string,
    log: Logger,
  ): Promise<{ attempt: LoginAttempt } | { lockout: Lockout }> {
    const admission = await guard.begin({ address, user: login });
    if ("lockout" in admission) {
      metrics.logins.inc({ protocol, result: "locked" });
      log.info({ login, ...lockoutFields(admission.lockout) }, "login refused: locked out");
    }
    return admission;
  }

  /** A wrong password or signature: counted against the address and the name; then the failure delay. */
  async function refuse(
    protocol: Protocol,
    attempt: LoginAttempt,
    login: string,
    log: Logger,
    fields: Record<string, unknown> = {},
  ): Promise<void> {
    const lockout = attempt.fail();
    metrics.logins.inc({ protocol, result: "failure" });
    log.info({ login, ...fields }, "login failed");
    if (lockout) {
      metrics.lockouts.inc({ protocol, by: lockout.by });
      log.warn({ login, ...lockoutFields(lockout) }, "login locked out");
    }
    if (options.failureDelayMs > 0) await delay(options.failureDelayMs);
  }

  function accept(protocol: Protocol, attempt: LoginAttempt, principal: Principal, log: Logger): Principal {
    attempt.succeed();
    metrics.logins.inc({ protocol, result: "success" });
    log.info({ login: principal.login, via: principal.via, access: principal.access }, "logged in");
    return principal;
  }

  /** A password (or a JWT as password) for `login`, as FTP's PASS and SSH's password method send it. */
  async function password(
    protocol: Protocol,
    request: { address: string; login: string; password: string; log: Logger; gone?: AbortSignal },
  ): Promise<PasswordLogin> {
    const { login, log } = request;
    const admission = await begin(protocol, request.address, login, log);
    if ("lockout" in admission) return { kind: "locked", lockout: admission.lockout };
    const { attempt } = admission;
    // It may have waited for earlier attempts to settle: a client gone meanwhile is not checked.
    if (request.gone?.aborted) {
      attempt.release();
      return { kind: "gone" };
    }
    let principal: Principal | undefined;
    try {
      principal = await options.authenticator.authenticate(login, request.password);
    } catch (error) {
      attempt.release();
      throw error;
    }
    if (!principal) {
      await refuse(protocol, attempt, login, log);
      return { kind: "refused" };
    }
    return { kind: "ok", principal: accept(protocol, attempt, principal, log) };
  }

  return { begin, refuse, accept, password };
}

export type Logins = ReturnType<typeof createLogins>;

const lockoutFields = (lockout: Lockout) => ({ lockedBy: lockout.by, until: new Date(lockout.until) });
