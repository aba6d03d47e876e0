import { randomUUID } from "node:crypto";
import {
  type AuthEnv,
  authErrorHeaders,
  createIssuer,
  createLoginGuard,
  createVerifier,
  extractCredentials,
  jwtAuth,
  type Lockout,
} from "@wharf/auth-jwt";
import { isWharfError, WharfError } from "@wharf/errors";
import {
  clientAddress,
  createHttpApp,
  type HttpEnv,
  type HttpMetrics,
  httpStatusByCode,
  type Logger,
  scrapedGauge,
} from "@wharf/http-kit";
import type { Context } from "hono";
import { cors } from "hono/cors";
import type { LoginLimits, RegistryUsageConfig } from "./config.ts";
import type { DirtyMarks } from "./dirty-marks.ts";
import { type NotificationsConfig, registerEventsRoute } from "./events.ts";
import {
  type HalContext,
  repositoriesResource,
  repositoryResource,
  tagResource,
  tagsResource,
} from "./hal.ts";
import type { History } from "./history.ts";
import { renderHtml, wantsHtml } from "./html.ts";
import { withFlaskJwtMessage } from "./jwt-messages.ts";
import type { LdapAuthenticator } from "./ldap-auth.ts";
import { parseHalQuery } from "./query.ts";
import { resolveResource } from "./resolve.ts";
import type { SnapshotStore } from "./snapshot-store.ts";
import { createAssets, distDir } from "./web/assets.ts";
import { registerDashboard } from "./web/dashboard.ts";
import { registerLogin } from "./web/login.ts";
import { securityHeaders } from "./web/security-headers.ts";
import { browserSession } from "./web/session.ts";

/** `/auth_token`'s limits when the config gives none (the `[login]` defaults). */
const defaultLoginLimits: LoginLimits = {
  maxFailures: 5,
  addressMaxFailures: 20,
  windowMs: 3_600_000,
  lockoutMs: 1_800_000,
};

export interface AppDeps {
  readonly config: Pick<RegistryUsageConfig, "prefix" | "jwt" | "visibility"> & {
    readonly login?: LoginLimits;
  };
  readonly store: SnapshotStore;
  readonly ldap: LdapAuthenticator;
  readonly logger: Logger;
  readonly metrics: HttpMetrics;
  /** Registry notifications endpoint: registered only when given. */
  readonly notifications?: { readonly config: NotificationsConfig; readonly marks: DirtyMarks };
  /** Totals over time (`GET /history`, the overview's chart). */
  readonly history?: History;
  /** Browser sessions: `secureCookie` marks the cookie Secure even when the request came as HTTP. */
  readonly web?: { readonly secureCookie?: boolean; readonly assetsDir?: string };
  readonly now?: () => Date;
}

type Env = HttpEnv & AuthEnv;

const basicChallenge = { scheme: "Basic" as const, realm: "Authentication Required" };
const bearerChallenge = { scheme: "Bearer" as const, realm: "registry-usage" };

/**
 * The HAL API of the original (gitlab-registry-usage-rest): `/auth_token` (LDAP → JWT) and
 * `/repositories…` (also under the 0.1.x name `/images…`), served from the stored snapshot.
 */
export function createApp(deps: AppDeps) {
  const { config, store } = deps;
  const prefix = config.prefix;
  const now = deps.now ?? (() => new Date());
  const issuer = createIssuer({ algorithm: "HS256", secret: config.jwt.secret, now });
  const verifier = createVerifier({
    algorithms: ["HS256"],
    secret: config.jwt.secret,
    requiredClaims: ["sub", "exp"],
    now,
  });

  const app = createHttpApp<Env>({
    logger: deps.logger,
    metrics: deps.metrics,
    opsPrefix: prefix,
    errorBody: (error, message, requestId) => {
      const shown =
        error.code === "UNAVAILABLE" && typeof error.details?.publicMessage === "string"
          ? error.details.publicMessage
          : message;
      const msg = typeof error.details?.msg === "string" ? error.details.msg : shown;
      return { message: shown, msg, code: error.code, request_id: requestId };
    },
    statusFor: (error) => (error.details?.status === 429 ? 429 : httpStatusByCode[error.code]),
    errorHeaders: (error) => {
      const headers = authErrorHeaders(error) ?? {};
      if (error.code === "UNAVAILABLE") headers["Retry-After"] = "30";
      const retryAfter = error.details?.retryAfterSeconds;
      if (typeof retryAfter === "number") headers["Retry-After"] = String(retryAfter);
      return headers;
    },
  });
  const guard = createLoginGuard({ ...(config.login ?? defaultLoginLimits), now: () => now().getTime() });
  app.use("*", cors());
  // The scan status every replica shares, as the alerting rules read it.
  const scanStatus = () => store.cachedStatus();
  scrapedGauge(
    deps.metrics,
    "scan_consecutive_failures",
    "Registry scans failed in a row",
    async () => (await scanStatus()).consecutive_failures,
    0,
  );
  scrapedGauge(
    deps.metrics,
    "last_successful_scan_timestamp_seconds",
    "Unix time of the last good scan (0: none yet)",
    async () => (await scanStatus()).last_success ?? 0,
    0,
  );
  app.use("*", securityHeaders());
  const issue = (subject: string) =>
    issuer.issue(
      { fresh: false, type: "access" },
      { expiresIn: config.jwt.expiresInSeconds, subject, jti: randomUUID(), notBefore: true },
    );
  const session = { prefix, secureCookie: deps.web?.secureCookie ?? false };
  const auth = browserSession({
    prefix,
    verifier,
    session,
    bearer: jwtAuth({
      verifier,
      sources: ["bearer"],
      challenge: bearerChallenge,
      onError: (failure, c) => {
        throw withFlaskJwtMessage(failure, c.req.header("authorization"));
      },
    }),
  });
  registerLogin(app, prefix, {
    session,
    ldap: deps.ldap,
    issue,
    expiresInSeconds: config.jwt.expiresInSeconds,
    // The same brute-force limits as /auth_token: one count for both doors.
    guard: { guard, address: clientAddress },
  });

  app.get(`${prefix}/auth_token`, async (c) => {
    let username: string;
    let password: string;
    try {
      const credentials = extractCredentials({ headers: c.req.raw.headers, url: c.req.url }, ["basic"]);
      if (!credentials?.username) throw new Error("no credentials");
      username = credentials.username;
      password = credentials.token;
    } catch {
      throw unauthorized("missing");
    }
    // LDAP matches user names without regard to case: so does the count.
    const who = { address: clientAddress(c), user: username.toLowerCase() };
    const admission = await guard.begin(who);
    if ("lockout" in admission) {
      c.var.log.info({ user: username, ...lockoutFields(admission.lockout) }, "login refused: locked out");
      throw lockedOut(admission.lockout, now().getTime());
    }
    const { attempt } = admission;
    let subject: string;
    try {
      subject = await deps.ldap.authenticate(username, password);
    } catch (error) {
      if (isWharfError(error, "UNAVAILABLE")) {
        attempt.release();
        c.var.log.error({ err: error.cause ?? error }, "LDAP unavailable");
        throw new WharfError("UNAVAILABLE", error.message, {
          details: { publicMessage: "the LDAP server is unavailable, try again later" },
        });
      }
      const lockout = attempt.fail();
      const reason = isWharfError(error) ? error.details?.reason : undefined;
      c.var.log.info({ user: username, reason }, "login refused");
      if (lockout)
        c.var.log.warn(
          { user: username, address: who.address, ...lockoutFields(lockout) },
          "login locked out",
        );
      throw unauthorized(typeof reason === "string" ? reason : "invalid_credentials");
    }
    attempt.succeed();
    const token = await issuer.issue(
      { fresh: false, type: "access" },
      { expiresIn: config.jwt.expiresInSeconds, subject, jti: randomUUID(), notBefore: true },
    );
    return c.json({ auth_token: token });
  });

  if (deps.notifications) {
    registerEventsRoute(app, prefix, deps.notifications.config, deps.notifications.marks);
  }

  for (const name of ["repositories", "images"]) {
    const base = `${prefix}/${name}`;
    app.use(base, auth);
    app.use(`${base}/*`, auth);
    app.get(base, async (c) => {
      const { usage, status, ctx } = await prepare(c, base);
      return respond(c, repositoriesResource(usage, status, ctx, ctx.query.embed));
    });
    app.get(`${base}/*`, async (c) => {
      const { usage, ctx } = await prepare(c, base);
      const rawPath = new URL(c.req.url).pathname;
      const found = resolveResource(rawPath.slice(base.length + 1), usage, ctx.visible);
      if (!found) throw new WharfError("NOT_FOUND", `The resource "${c.req.path}" does not exist`);
      const depth = ctx.query.embed;
      if (found.kind === "repository") return respond(c, repositoryResource(found.repo, ctx, depth));
      if (found.kind === "tags") return respond(c, tagsResource(found.repo, ctx, depth));
      return respond(c, tagResource(found.repo, found.tag, ctx));
    });
    app.all(base, notAllowed);
    app.all(`${base}/*`, notAllowed);
  }
  app.all(`${prefix}/auth_token`, notAllowed);
  registerDashboard(app, {
    prefix,
    auth,
    prepare,
    ...(deps.history ? { history: deps.history } : {}),
    assets: createAssets(deps.web?.assetsDir ?? distDir, async () =>
      (await import("../ui/build.ts")).buildUi(),
    ),
  });

  async function prepare(c: Context<Env>, base: string) {
    const claims = c.get("principal")?.claims;
    if (claims?.type === "refresh") {
      throw new WharfError("UNAUTHENTICATED", "Only non-refresh tokens are allowed", {
        details: { challenge: bearerChallenge, msg: "Only non-refresh tokens are allowed" },
      });
    }
    const query = parseHalQuery(new URL(c.req.url).searchParams);
    const loaded = await store.current();
    if (!loaded) {
      throw new WharfError("UNAVAILABLE", "no snapshot yet", {
        details: { publicMessage: "no registry scan has completed yet, try again later" },
      });
    }
    const subject = c.get("principal")?.subject ?? "";
    const prefixes = config.visibility.users[subject] ?? config.visibility.default;
    const seesAll = prefixes.includes("*");
    const ctx: HalContext = {
      base,
      query,
      seesAll,
      visible: (name) => seesAll || prefixes.some((p) => name.startsWith(p)),
    };
    return { usage: loaded.usage, snapshot: loaded.snapshot, status: await store.cachedStatus(), ctx };
  }

  function respond(c: Context<Env>, body: Record<string, unknown>): Response {
    const json = new URL(c.req.url).searchParams.get("format") === "json";
    if (!json && wantsHtml(c.req.header("accept"))) return c.html(renderHtml(body));
    return c.body(JSON.stringify(body), 200, { "Content-Type": "application/hal+json" });
  }

  return app;
}

/** The original's 401; `reason` (e.g. `unknown_user`) goes to the log line only, never to the client. */
function unauthorized(reason: string): WharfError {
  return new WharfError("UNAUTHENTICATED", "Unauthorized Access", {
    details: { challenge: basicChallenge, reason },
  });
}

const lockoutFields = (lockout: Lockout) => ({ lockedBy: lockout.by, until: new Date(lockout.until) });

/** 429 with Retry-After: too many failed logins from this address or for this user name. */
function lockedOut(lockout: Lockout, now: number): WharfError {
  const seconds = Math.max(1, Math.ceil((lockout.until - now) / 1000));
  const whose = lockout.by === "address" ? "from your address" : "for this user name";
  return new WharfError(
    "UNAUTHENTICATED",
    `too many failed logins ${whose}; try again in ${Math.ceil(seconds / 60)} minute(s), after ${new Date(lockout.until).toISOString()}`,
    { details: { reason: "locked_out", status: 429, retryAfterSeconds: seconds } },
  );
}

function notAllowed(c: Context): Response {
  return c.json({ message: "The method is not allowed for the requested URL." }, 405, {
    Allow: "GET, HEAD, OPTIONS",
  });
}
