import { randomUUID } from "node:crypto";
import {
  type AuthEnv,
  authErrorHeaders,
  createIssuer,
  createVerifier,
  extractCredentials,
  jwtAuth,
} from "@wharf/auth-jwt";
import { isWharfError, WharfError } from "@wharf/errors";
import { createHttpApp, type HttpEnv, type HttpMetrics, type Logger } from "@wharf/http-kit";
import type { Context } from "hono";
import { cors } from "hono/cors";
import type { RegistryUsageConfig } from "./config.ts";
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
import type { LdapAuthenticator } from "./ldap-auth.ts";
import { parseHalQuery } from "./query.ts";
import { resolveResource } from "./resolve.ts";
import type { SnapshotStore } from "./snapshot-store.ts";
import { createAssets, distDir } from "./web/assets.ts";
import { registerDashboard } from "./web/dashboard.ts";
import { registerLogin } from "./web/login.ts";
import { securityHeaders } from "./web/security-headers.ts";
import { browserSession } from "./web/session.ts";

export interface AppDeps {
  readonly config: Pick<RegistryUsageConfig, "prefix" | "jwt" | "visibility">;
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
      return { message: shown, msg: shown, code: error.code, request_id: requestId };
    },
    errorHeaders: (error) => {
      const headers = authErrorHeaders(error) ?? {};
      if (error.code === "UNAVAILABLE") headers["Retry-After"] = "30";
      return headers;
    },
  });
  app.use("*", cors());
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
    bearer: jwtAuth({ verifier, sources: ["bearer"], challenge: bearerChallenge }),
  });
  registerLogin(app, prefix, {
    session,
    ldap: deps.ldap,
    issue,
    expiresInSeconds: config.jwt.expiresInSeconds,
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
      throw unauthorized();
    }
    let subject: string;
    try {
      subject = await deps.ldap.authenticate(username, password);
    } catch (error) {
      if (isWharfError(error, "UNAVAILABLE")) {
        c.var.log.error({ err: error.cause ?? error }, "LDAP unavailable");
        throw new WharfError("UNAVAILABLE", error.message, {
          details: { publicMessage: "the LDAP server is unavailable, try again later" },
        });
      }
      c.var.log.info({ reason: isWharfError(error) ? error.details?.reason : undefined }, "login refused");
      throw unauthorized();
    }
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
        details: { challenge: bearerChallenge },
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

function unauthorized(): WharfError {
  return new WharfError("UNAUTHENTICATED", "Unauthorized Access", { details: { challenge: basicChallenge } });
}

function notAllowed(c: Context): Response {
  return c.json({ message: "The method is not allowed for the requested URL." }, 405, {
    Allow: "GET, HEAD, OPTIONS",
  });
}
