import { createServer, type Server, type Socket } from "node:net";
import { createLoginGuard, type Verifier } from "@wharf/auth-jwt";
import { createHttpApp, createMetrics, type RunningServer, scrapedGauge, serveHttp } from "@wharf/http-kit";
import { abortStaleUploads, countStaleUploads, type StorageDriver } from "@wharf/storage-driver";
import type { Logger } from "pino";
import { createAuthenticator } from "./core/auth.ts";
import type { Config } from "./core/config.ts";
import { createFtpMetrics } from "./core/metrics.ts";
import { createPartPool } from "./core/part-pool.ts";
import { createAbortRetrier, uploadInParts } from "./core/part-upload.ts";
import type { FolderTime } from "./core/vfs.ts";
import { createPassivePool } from "./ftp/data.ts";
import { createPassiveAddressResolver, plainAddress } from "./ftp/passive-address.ts";
import { type ServerContext, type SessionHandle, startSession } from "./ftp/session.ts";
import { createTlsUpgrader, type TlsMaterial } from "./ftp/tls.ts";
import type { HostKey } from "./sftp/host-keys.ts";
import { createSftpServer, type SftpServer } from "./sftp/server.ts";

export interface AppDeps {
  readonly config: Config;
  readonly driver: StorageDriver;
  readonly tls: TlsMaterial;
  readonly logger: Logger;
  readonly verifier?: Verifier;
  readonly now?: () => Date;
  /** A folder's own time where the store keeps one (see `openGatewayStorage`). */
  readonly folderTime?: FolderTime;
  /** Wait after a data connection's EOF before a STOR commits (default 50 ms). */
  readonly eofGraceMs?: number;
  /** Delays between attempts to abort a failed multipart upload (default `abortRetryDelaysMs`). */
  readonly abortRetryDelaysMs?: readonly number[];
  /** SSH host keys; the SFTP listener runs when `config.sftp` is set (see sftp/host-keys.ts). */
  readonly hostKeys?: readonly HostKey[];
}

export interface Listening {
  readonly commandPort: number;
  readonly implicitPort: number | undefined;
  readonly healthUrl: string | undefined;
  readonly sftpPort: number | undefined;
}

/** Least time `close` waits for the aborts of interrupted multipart uploads. */
const minAbortWaitMs = 5000;

/** The FTP/FTPS gateway: command and implicit-TLS listeners, sessions, and the health/metrics port. */
export function createApp(deps: AppDeps) {
  const { config, logger } = deps;
  const httpMetrics = createMetrics({ prefix: "ftps_gateway" });
  const metrics = createFtpMetrics(httpMetrics.registry);
  let stopping = false;
  const http = createHttpApp({
    logger,
    metrics: httpMetrics,
    ready: async () => {
      if (stopping) return false;
      await deps.driver.list({ limit: 1 });
      return true;
    },
  });
  const staleAfterMs = config.uploads.abandonedAfterMs > 0 ? config.uploads.abandonedAfterMs : 24 * 3600_000;
  const stale = () => countStaleUploads(deps.driver, { olderThanMs: staleAfterMs });
  scrapedGauge(
    httpMetrics,
    "stale_multipart_uploads",
    "Multipart uploads older than the sweep's age",
    stale,
    300_000,
  );
  http.get("/alb_healthcheck", (c) => c.text("OK"));

  const aborts = createAbortRetrier({
    driver: deps.driver,
    ...(deps.abortRetryDelaysMs ? { delaysMs: deps.abortRetryDelaysMs } : {}),
    onRetry: ({ key, uploadId, attempt, error }) =>
      logger.warn(
        { key, uploadId, attempt, err: error },
        "aborting a failed multipart upload failed; retrying",
      ),
    onGiveUp: ({ key, uploadId, error }) =>
      logger.error(
        { key, uploadId, err: error },
        "gave up aborting a multipart upload; its parts are left behind",
      ),
  });
  // In the background at start: uploads left by a gateway that died mid-transfer.
  const abandonedUploads = abortStaleUploads(deps.driver, {
    olderThanMs: config.uploads.abandonedAfterMs,
    log: logger,
  });
  // Stores that take parts with their length (S3) get them buffered, in a budget shared by every session.
  const uploads =
    deps.driver.capabilities.preferredWriteBufferBytes > 0
      ? {
          pool: createPartPool({ partBytes: config.uploads.partBytes, parts: config.uploads.buffers }),
          buffersPerSession: config.uploads.buffersPerSession,
          aborts,
        }
      : undefined;

  const ctx: ServerContext = {
    config: {
      tlsRequired: config.tls.required,
      sessionReuse: config.tls.sessionReuse,
      activeMode: config.activeMode,
      dirSuffix: effectiveDirSuffix(config.dirSuffix, deps.driver),
      rmdRecursive: config.rmdRecursive,
      listFormat: config.listFormat,
      maxLineBytes: config.limits.maxLineBytes,
      idleTimeoutMs: config.limits.idleTimeoutMs,
      dataTimeoutMs: config.limits.dataTimeoutMs,
      failureDelayMs: config.login.failureDelayMs,
      eofGraceMs: deps.eofGraceMs ?? 50,
    },
    driver: deps.driver,
    authenticator: createAuthenticator({
      users: config.users,
      jwt: deps.verifier && config.jwt ? { verifier: deps.verifier, home: config.jwt.home } : undefined,
    }),
    guard: createLoginGuard({
      ...config.login,
      now: deps.now ? () => deps.now!().getTime() : undefined,
    }),
    tls: createTlsUpgrader({
      cert: deps.tls.cert,
      key: deps.tls.key,
      minVersion: config.tls.minVersion,
      handshakeTimeoutMs: config.limits.passiveTimeoutMs,
    }),
    passive: createPassivePool({
      host: config.host,
      ports: config.passivePorts,
      timeoutMs: config.limits.passiveTimeoutMs,
      onForeign: (address) => {
        metrics.foreignDataConnections.inc();
        logger.warn({ address }, "refused a data connection from a foreign address");
      },
    }),
    passiveAddress: createPassiveAddressResolver(config.passiveAddresses),
    metrics,
    logger,
    now: deps.now ?? (() => new Date()),
    ...(deps.folderTime ? { folderTime: deps.folderTime } : {}),
    ...(uploads ? { uploads } : {}),
  };

  const sftp = startSftp(deps, ctx);

  const sessions = new Set<SessionHandle>();
  const perIp = new Map<string, number>();

  function admit(socket: Socket): boolean {
    const ip = plainAddress(socket.remoteAddress);
    const refuse = (reason: string, text: string) => {
      metrics.connectionsRefused.inc({ reason });
      socket.on("error", () => {});
      socket.end(`421 ${text}\r\n`);
      return false;
    };
    if (stopping) return refuse("shutdown", "Service not available, closing control connection.");
    if (sessions.size >= config.limits.maxConnections) return refuse("limit", "Too many users, try later.");
    if ((perIp.get(ip) ?? 0) >= config.limits.maxConnectionsPerIp)
      return refuse("per_ip", "Too many connections from your address.");
    perIp.set(ip, (perIp.get(ip) ?? 0) + 1);
    socket.once("close", () => {
      const left = (perIp.get(ip) ?? 1) - 1;
      if (left <= 0) perIp.delete(ip);
      else perIp.set(ip, left);
    });
    return true;
  }

  function track(handle: SessionHandle) {
    sessions.add(handle);
    void handle.closed.then(() => sessions.delete(handle));
  }

  const command = createServer((socket) => {
    if (admit(socket)) track(startSession(socket, ctx, false));
  });
  const implicit = createServer((socket) => {
    if (!admit(socket)) return;
    socket.on("error", () => {});
    ctx.tls.upgrade(socket).then(
      (secure) => track(startSession(secure, ctx, true)),
      (error: unknown) => logger.debug({ err: error }, "implicit TLS handshake failed"),
    );
  });
  let health: RunningServer | undefined;

  const listenOn = (server: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port, host: config.host }, () => resolve((server.address() as { port: number }).port));
    });

  return {
    http,
    metrics,
    sessionCount: () => sessions.size,
    /** Open SSH connections of the SFTP listener. */
    sftpSessionCount: () => sftp?.sessionCount() ?? 0,
    /** Failed multipart uploads whose abort is still being retried. */
    pendingAborts: () => aborts.pending(),
    /** How many abandoned multipart uploads the start-up sweep aborted, once it is done. */
    abandonedUploads: () => abandonedUploads,
    async listen(): Promise<Listening> {
      const commandPort = await listenOn(command, config.commandPort);
      const implicitPort =
        config.implicitPort === undefined ? undefined : await listenOn(implicit, config.implicitPort);
      const sftpPort = await sftp?.listen();
      if (config.health) health = await serveHttp(http.fetch, config.health);
      return { commandPort, implicitPort, healthUrl: health?.url, sftpPort };
    },
    /**
     * Stops accepting, lets running transfers finish for `graceMs`, aborts the rest, closes sessions,
     * then waits (`graceMs`, at least 5 s) for the aborts of interrupted multipart uploads and logs them.
     */
    async close(graceMs = 10_000): Promise<void> {
      stopping = true;
      const closing = [command, implicit].map(
        (server) =>
          new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
      );
      await Promise.all([...sessions].map((handle) => handle.shutdown(graceMs)));
      await Promise.all([...closing, sftp?.close()]);
      await abandonedUploads;
      // Interrupted uploads' aborts are usually still in flight here: wait for them (at least a few
      // seconds, even with no grace for transfers), then say what became of each.
      const { aborted, left } = await aborts.finish(Math.max(graceMs, minAbortWaitMs));
      for (const upload of aborted)
        logger.info(upload, "aborted the multipart upload of an interrupted transfer");
      for (const { error, ...upload } of left)
        logger.error(
          { ...upload, err: error, stillRunning: error === undefined },
          "shutting down with a multipart upload not aborted; its parts are left behind",
        );
      await health?.close(1000);
    },
  };
}

export type App = ReturnType<typeof createApp>;

/** The SFTP listener over the same users, lockout, store and upload buffers as FTP's sessions. */
function startSftp(deps: AppDeps, ctx: ServerContext): SftpServer | undefined {
  const { config } = deps;
  if (!config.sftp) return undefined;
  if (!deps.hostKeys?.length) throw new Error("SFTP needs host keys (AppDeps.hostKeys)");
  const uploads = ctx.uploads;
  return createSftpServer({
    config: config.sftp,
    hostKeys: deps.hostKeys,
    auth: {
      users: config.users,
      authenticator: ctx.authenticator,
      guard: ctx.guard,
      metrics: ctx.metrics,
      failureDelayMs: config.login.failureDelayMs,
    },
    files: {
      driver: deps.driver,
      dirSuffix: ctx.config.dirSuffix,
      rmdRecursive: config.rmdRecursive,
      reorderWindowBytes: config.sftp.reorderWindowBytes,
      now: ctx.now,
      ...(uploads
        ? {
            store: (key, body, signal) =>
              uploadInParts(key, body, {
                driver: deps.driver,
                pool: uploads.pool,
                partsPerUpload: uploads.buffersPerSession,
                abandon: uploads.aborts.abandon,
                signal,
              }),
          }
        : {}),
    },
    limits: config.limits,
    logger: deps.logger,
  });
}

/**
 * A suffix ending with `/` (aioftps3's README example `/`) makes markers S3 folder markers (`a/`),
 * which stores with `capabilities.folderMarkers` hold. The fs driver has real folders and refuses
 * such keys, so there the marker is a file in the folder instead (`a/.s3keep`).
 */
export function effectiveDirSuffix(suffix: string, driver: StorageDriver): string {
  return suffix.endsWith("/") && !driver.capabilities.folderMarkers ? `${suffix}.s3keep` : suffix;
}
