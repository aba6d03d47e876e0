import {
  createHttpApp,
  createMetrics,
  type HttpMetrics,
  type Logger,
  scrapedGauge,
  silentLogger,
} from "@wharf/http-kit";
import { countStaleUploads, type StorageDriver } from "@wharf/storage-driver";
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
  const metrics = deps.metrics ?? createMetrics({ prefix: "lfs_router", defaultMetrics: false });
  const app = createHttpApp<LfsEnv>({
    logger: deps.logger ?? silentLogger(),
    metrics,
    ready: async () => {
      await driver.list({ prefix: config.keyPrefix, limit: 1 });
      return true;
    },
    statusFor: lfsStatus,
    errorBody: (error, message, requestId) => {
      const lock = error.code === "ALREADY_EXISTS" ? error.details?.lock : undefined;
      return { ...(lock ? { lock } : {}), message, request_id: requestId };
    },
    errorHeaders: (error) => ({
      "Content-Type": lfsMediaType,
      ...(lfsStatus(error) === 401 ? challengeHeaders(config.realm) : {}),
    }),
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
  // Uploads older than a day (LFS_ABANDONED_UPLOAD_HOURS' default) that no sweep removed.
  const stale = () => countStaleUploads(driver, { olderThanMs: 24 * 3600_000, prefix: config.keyPrefix });
  scrapedGauge(metrics, "stale_multipart_uploads", "Multipart uploads older than a day", stale, 300_000);
  return app;
}
