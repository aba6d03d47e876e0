import { createIssuer } from "@wharf/auth-jwt";
import {
  createLogger,
  createMetrics,
  drainHttp,
  guardProcess,
  loadConfigOrExit,
  loadEnvFile,
  onShutdown,
  StartupError,
  serveHttp,
  shutdownTimeoutMs,
  startStep,
} from "@wharf/http-kit";
import { abortStaleUploads, describeStore, openStorage } from "@wharf/storage-driver";
import { createApp } from "./app.ts";
import { loadConfig } from "./config.ts";
import { nodeFetch } from "./http.ts";
import { probeSha256Enforcement } from "./probe.ts";

const guard = guardProcess("lfs-router");
loadEnvFile();
const config = loadConfigOrExit(() => loadConfig(process.env), "lfs-router");
const logger = createLogger({ name: "lfs-router", level: config.logLevel });
for (const warning of config.warnings) logger.warn(warning);
// Etags are opaque to LFS (locks compare them, downloads echo them): on fs, skip the md5 of every
// body; the sha256 the router passes with each upload is still hashed once and verified.
const storeName = describeStore(config.storageUrl);
const storeHint = "start the store, correct STORAGE_URL or its credentials, or set LFS_TRANSFER_MODE=proxy";
const driver = await startStep(
  "STORAGE_URL",
  storeHint,
  () =>
    openStorage(config.storageUrl, {
      fsEtag: "version",
      ...(config.s3Credentials ? { credentials: config.s3Credentials } : {}),
    }),
  `cannot reach the store at ${storeName}`,
);

const canPresign = driver.capabilities.presign;
if (config.transferMode === "direct" && !canPresign)
  throw new StartupError(
    "LFS_TRANSFER_MODE",
    "direct needs a store with the capability presign (S3); this one has not",
    "use auto or proxy, or an s3:// STORAGE_URL",
  );
// Locks are shared state guarded by conditional writes: without them, the locking API is not served (404).
const locking = config.locking && driver.capabilities.conditionalWrite;
if (config.locking && !locking)
  logger.warn(
    "the store has no conditional writes (capability conditionalWrite): the locking API answers 404 (git-lfs: no locking)",
  );
const mode = config.transferMode === "proxy" || !canPresign ? "proxy" : "direct";
const storeEnforcesSha256 =
  mode === "direct"
    ? await startStep(
        "STORAGE_URL",
        storeHint,
        () => probeSha256Enforcement(driver, config.keyPrefix),
        `cannot reach the store at ${storeName}`,
      )
    : false;
if (mode === "direct" && !storeEnforcesSha256)
  logger.warn("the store ignores x-amz-checksum-sha256: direct uploads are staged and hashed at verify");

// In the background: multipart uploads of objects over 5 GiB left by a router killed mid-upload.
void abortStaleUploads(driver, {
  olderThanMs: config.abandonedUploadMs,
  ...(config.keyPrefix ? { prefix: config.keyPrefix } : {}),
  log: logger,
});

const app = createApp({
  config,
  driver,
  mode,
  storeEnforcesSha256,
  logger,
  metrics: createMetrics({ prefix: "lfs_router" }),
});
const server = await startStep("PORT", "stop what listens there, or set another PORT or HOST", () =>
  serveHttp(nodeFetch(app), { port: config.port, host: config.host }),
);
onShutdown(logger, [() => drainHttp(server, config.shutdownDelayMs, logger), () => driver.close()], {
  timeoutMs: config.shutdownDelayMs + shutdownTimeoutMs,
});
guard.serving(logger);
logger.info({ url: server.url, storage: driver.name, mode, locking }, "listening");

if (config.dev) {
  const issuer = createIssuer({ algorithm: config.jwt.algorithms[0] ?? "HS256", secret: config.jwt.secret });
  const token = await issuer.issue(
    { username: "dev", scope: "*:admin" },
    { expiresIn: "30 days", subject: "dev" },
  );
  const lfsUrl = `${config.publicUrl ?? server.url}/<org>/<repo>/info/lfs`;
  process.stderr.write(
    [
      "",
      `lfs-router: Git LFS on ${server.url} (${driver.name} storage, ${mode} transfers)`,
      `  point a repository at it:  git config -f .lfsconfig remote.origin.lfsurl ${lfsUrl}`,
      "  credentials (git asks once): user  dev",
      `                               token ${token}`,
      "",
    ].join("\n"),
  );
}
