import {
  createHttpApp,
  createMetrics,
  type HttpMetrics,
  type Logger,
  silentLogger,
  toWharfError,
} from "@wharf/http-kit";
import type { StorageDriver } from "@wharf/storage-driver";
import type { Hono } from "hono";
import { createAuthenticator } from "./auth.ts";
import { answerBatch, parseBatchRequest } from "./batch.ts";
import type { LfsConfig } from "./config.ts";
import { baseUrlOf, checkAccept, type LfsEnv, lfsJson, readJson } from "./http.ts";
import { createLayout, parseRepo } from "./layout.ts";
import { challengeHeaders, lfsMediaType, lfsStatus } from "./lfs-error.ts";
import { createLinkSigner } from "./links.ts";
import { mountLockRoutes } from "./lock-routes.ts";
import { createLockStore } from "./locks.ts";
import { mountObjectRoutes } from "./object-routes.ts";
import { createTransfers } from "./transfers.ts";
import { createUsage } from "./usage.ts";

export type AppConfig = Pick<
  LfsConfig,
  | "keyPrefix"
  | "publicUrl"
  | "jwt"
  | "linkSecret"
  | "expiresIn"
  | "maxBatchObjects"
  | "maxObjectSize"
  | "repoQuotaBytes"
  | "anonymousRead"
  | "unscopedTokenScopes"
  | "realm"
  | "locking"
>;

export interface AppDeps {
  readonly config: AppConfig;
  readonly driver: StorageDriver;
  /** `direct`: presigned store URLs (the driver must presign); `proxy`: bytes go through the router. */
  readonly mode: "direct" | "proxy";
  /** Direct mode: the store enforces `x-amz-checksum-sha256` on presigned PUTs (see `probeSha256Enforcement`). */
  readonly storeEnforcesSha256?: boolean;
  readonly logger?: Logger;
  readonly metrics?: HttpMetrics;
  readonly now?: () => Date;
}

const maxBatchBody = 8 * 1024 * 1024;

/** The Git LFS server: batch API, the router's own transfer and verify endpoints, locking. */
export function createApp(deps: AppDeps): Hono<LfsEnv> {
  const { config, driver } = deps;
  const app = createHttpApp<LfsEnv>({
    logger: deps.logger ?? silentLogger(),
    metrics: deps.metrics ?? createMetrics({ prefix: "lfs_router", defaultMetrics: false }),
    ready: async () => {
      await driver.list({ prefix: config.keyPrefix, limit: 1 });
      return true;
    },
    errorBody: (_error, message, requestId) => ({ message, request_id: requestId }),
  });
  const layout = createLayout(config.keyPrefix);
  const auth = createAuthenticator({
    secret: config.jwt.secret,
    algorithms: config.jwt.algorithms,
    anonymousRead: config.anonymousRead,
    unscopedTokenScopes: config.unscopedTokenScopes,
    ...(deps.now ? { now: deps.now } : {}),
  });
  const links = createLinkSigner(config.linkSecret, deps.now);
  const transfers = createTransfers({
    driver,
    layout,
    links,
    mode: deps.mode,
    storeEnforcesSha256: deps.storeEnforcesSha256 ?? false,
    expiresIn: config.expiresIn,
  });
  const repoUsage = createUsage(driver, layout);

  app.onError((err, c) => {
    const error = toWharfError(err);
    const status = lfsStatus(error);
    if (status >= 500) c.var.log?.error({ err: error.cause ?? error, code: error.code }, error.message);
    const message =
      status >= 500
        ? error.code === "UNAVAILABLE"
          ? "the store is unavailable, try again later"
          : "internal error"
        : error.message;
    const headers: Record<string, string> = { "Content-Type": lfsMediaType };
    if (status === 401) Object.assign(headers, challengeHeaders(config.realm));
    const lock = error.code === "ALREADY_EXISTS" ? error.details?.lock : undefined;
    const body = { ...(lock ? { lock } : {}), message, request_id: c.var.requestId ?? "" };
    return c.body(JSON.stringify(body), status as 400, headers);
  });

  app.post("/:repo{.+}/info/lfs/objects/batch", async (c) => {
    checkAccept(c);
    const repo = parseRepo(c.req.param("repo"));
    const principal = await auth.authenticate(c.req.raw.headers, c.req.url);
    if (!principal) auth.authorize(undefined, repo, "read");
    const request = parseBatchRequest(await readJson(c, maxBatchBody), config.maxBatchObjects);
    auth.authorize(principal, repo, request.operation === "upload" ? "write" : "read", request.ref?.name);
    const objects = await answerBatch(
      {
        driver,
        layout,
        transfers,
        repoUsage,
        ...(config.maxObjectSize ? { maxObjectSize: config.maxObjectSize } : {}),
        ...(config.repoQuotaBytes ? { repoQuotaBytes: config.repoQuotaBytes } : {}),
      },
      repo,
      request,
      baseUrlOf(c, config.publicUrl),
    );
    return lfsJson(c, { transfer: "basic", objects, hash_algo: "sha256" });
  });

  mountObjectRoutes(app, { driver, layout, links, transfers });
  if (config.locking && driver.capabilities.conditionalWrite)
    mountLockRoutes(app, { auth, locks: createLockStore(driver, layout, deps.now) });
  return app;
}
