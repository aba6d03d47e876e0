import type { Socket } from "node:net";
import type { Verifier } from "@wharf/auth-jwt";
import { createHttpApp, createMetrics, type RunningServer, scrapedGauge, serveHttp } from "@wharf/http-kit";
import { countStaleUploads, type StorageDriver } from "@wharf/storage-driver";
import type { Logger } from "pino";
import { plainAddress } from "./core/address.ts";
import type { Config } from "./core/config.ts";
import { createCore } from "./core/core.ts";
import { createGatewayMetrics } from "./core/metrics.ts";
import { createProxyProtocol } from "./core/proxy-protocol.ts";
import type { FolderTime } from "./core/vfs.ts";
import { createFtpServer } from "./ftp/server.ts";
import type { TlsMaterial } from "./ftp/tls.ts";
import type { HostKey } from "./sftp/host-keys.ts";
import { createSftpServer } from "./sftp/server.ts";

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

/** How long a connection from a trusted balancer may take to send its PROXY header. */
const proxyHeaderTimeoutMs = 10_000;

export interface Listening {
  readonly commandPort: number;
  readonly implicitPort: number | undefined;
  readonly healthUrl: string | undefined;
  readonly sftpPort: number | undefined;
}

/**
 * The gateway: one file-transfer core (core/) with its front-ends beside each other, FTP/FTPS
 * (ftp/) and SFTP (sftp/) when `SFTP_PORT` is set, and the health/metrics port.
 */
export function createApp(deps: AppDeps) {
  const { config, logger } = deps;
  const httpMetrics = createMetrics({ prefix: "ftps_gateway" });
  const metrics = createGatewayMetrics(httpMetrics.registry);
  let stopping = false;
  const http = createHttpApp({
    logger,
    metrics: httpMetrics,
    ready: async () => {
      await deps.driver.list({ limit: 1 });
      return true;
    },
    stopping: () => stopping,
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

  const core = createCore({
    config,
    driver: deps.driver,
    metrics,
    logger,
    ...(deps.verifier ? { verifier: deps.verifier } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.folderTime ? { folderTime: deps.folderTime } : {}),
    ...(deps.abortRetryDelaysMs ? { abortRetryDelaysMs: deps.abortRetryDelaysMs } : {}),
  });
  // PROXY protocol (PROXY_PROTOCOL): a connection from a trusted balancer names its client; every
  // check, lockout and log line of the front-ends then sees the client's address (core/proxy-protocol.ts).
  const proxy = createProxyProtocol({ ...config.proxyProtocol, timeoutMs: proxyHeaderTimeoutMs });
  const accept = (protocol: "ftp" | "sftp") => (socket: Socket, refuseUntrustedHeader: boolean) =>
    proxy.accept(
      socket,
      (reason) => {
        metrics.connectionsRefused.inc({ protocol, reason: "proxy_protocol" });
        logger.warn(
          { protocol, address: plainAddress(socket.remoteAddress), reason },
          "refused a connection",
        );
      },
      refuseUntrustedHeader,
    );
  const ftp = createFtpServer({
    config,
    core,
    tls: deps.tls,
    logger,
    accept: accept("ftp"),
    ...(deps.eofGraceMs !== undefined ? { eofGraceMs: deps.eofGraceMs } : {}),
  });
  let sftp: ReturnType<typeof createSftpServer> | undefined;
  if (config.sftp) {
    if (!deps.hostKeys?.length) throw new Error("SFTP needs host keys (AppDeps.hostKeys)");
    sftp = createSftpServer({
      config: config.sftp,
      hostKeys: deps.hostKeys,
      core,
      users: config.users,
      limits: config.limits,
      logger,
      accept: (socket) => accept("sftp")(socket, true),
    });
  }
  let health: RunningServer | undefined;

  return {
    http,
    metrics,
    sessionCount: () => ftp.sessionCount(),
    /** Open SSH connections of the SFTP listener. */
    sftpSessionCount: () => sftp?.sessionCount() ?? 0,
    /** Failed multipart uploads whose abort is still being retried. */
    pendingAborts: () => core.pendingAborts(),
    /** How many abandoned multipart uploads the start-up sweep aborted, once it is done. */
    abandonedUploads: () => core.abandonedUploads(),
    async listen(): Promise<Listening> {
      const { commandPort, implicitPort } = await ftp.listen();
      const sftpPort = await sftp?.listen();
      if (config.health) health = await serveHttp(http.fetch, config.health);
      return { commandPort, implicitPort, healthUrl: health?.url, sftpPort };
    },
    /**
     * The drain on SIGTERM: readiness turns false, both front-ends stop accepting, running transfers
     * get `graceMs` to finish (the rest are aborted and leave nothing), sessions close; then it waits
     * (`graceMs`, at least 5 s) for the aborts of interrupted multipart uploads and logs them.
     */
    async close(graceMs = 10_000): Promise<void> {
      stopping = true;
      await Promise.all([ftp.close(graceMs), sftp?.close(graceMs)]);
      await core.finish(graceMs);
      await health?.close(1000);
    },
  };
}

export type App = ReturnType<typeof createApp>;
