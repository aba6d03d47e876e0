import { createServer, type Server, type Socket } from "node:net";
import type { Logger } from "pino";
import { plainAddress } from "../core/address.ts";
import type { Config } from "../core/config.ts";
import type { Core } from "../core/core.ts";
import { createConnectionLimits, type RefusalReason } from "../core/limits.ts";
import { inheritAddresses } from "../core/proxy-protocol.ts";
import { createPassivePool } from "./data.ts";
import { createPassiveAddressResolver } from "./passive-address.ts";
import { startSession } from "./session.ts";
import type { ServerContext, SessionHandle } from "./session-types.ts";
import { createTlsUpgrader, type TlsMaterial } from "./tls.ts";

export interface FtpServerOptions {
  readonly config: Config;
  readonly core: Core;
  readonly tls: TlsMaterial;
  readonly logger: Logger;
  /** Wait after a data connection's EOF before a STOR commits (default 50 ms). */
  readonly eofGraceMs?: number;
  /**
   * Runs on each accepted socket first (the PROXY protocol); false: it was refused and closed. With
   * `refuseUntrustedHeader`, a connection whose client speaks first with a PROXY header is closed.
   */
  readonly accept?: (socket: Socket, refuseUntrustedHeader: boolean) => Promise<boolean>;
}

const refusals: Readonly<Record<RefusalReason, string>> = {
  shutdown: "Service not available, closing control connection.",
  limit: "Too many users, try later.",
  per_ip: "Too many connections from your address.",
};

/** The FTP front-end: the command port (explicit FTPS) and the implicit-TLS port, and their sessions. */
export function createFtpServer(options: FtpServerOptions) {
  const { config, core, logger } = options;
  const { metrics } = core;
  const ctx: ServerContext = {
    config: {
      tlsRequired: config.tls.required,
      sessionReuse: config.tls.sessionReuse,
      activeMode: config.activeMode,
      listFormat: config.listFormat,
      maxLineBytes: config.limits.maxLineBytes,
      idleTimeoutMs: config.limits.idleTimeoutMs,
      dataTimeoutMs: config.limits.dataTimeoutMs,
      eofGraceMs: options.eofGraceMs ?? 50,
    },
    core,
    tls: createTlsUpgrader({
      cert: options.tls.cert,
      key: options.tls.key,
      minVersion: config.tls.minVersion,
      ...(config.tls.groups === undefined ? {} : { groups: config.tls.groups }),
      handshakeTimeoutMs: config.limits.passiveTimeoutMs,
    }),
    passive: createPassivePool({
      host: config.host,
      ports: config.passivePorts,
      timeoutMs: config.limits.passiveTimeoutMs,
      ...(options.accept ? { accept: (socket: Socket) => options.accept!(socket, false) } : {}),
      onForeign: (address) => {
        metrics.foreignDataConnections.inc();
        logger.warn({ address }, "refused a data connection from a foreign address");
      },
    }),
    passiveAddress: createPassiveAddressResolver(config.passiveAddresses),
    logger,
  };
  const sessions = new Set<SessionHandle>();
  const limits = createConnectionLimits(config.limits);
  let stopping = false;

  function admit(socket: Socket): boolean {
    const slot: ReturnType<typeof limits.admit> = stopping
      ? { refused: "shutdown" }
      : limits.admit(plainAddress(socket.remoteAddress));
    if ("refused" in slot) {
      metrics.connectionsRefused.inc({ protocol: "ftp", reason: slot.refused });
      socket.on("error", () => {});
      socket.end(`421 ${refusals[slot.refused]}\r\n`);
      return false;
    }
    socket.once("close", slot.release);
    return true;
  }

  function track(handle: SessionHandle) {
    sessions.add(handle);
    void handle.closed.then(() => sessions.delete(handle));
  }

  const accepted = (socket: Socket, refuseUntrustedHeader: boolean) =>
    options.accept ? options.accept(socket, refuseUntrustedHeader) : Promise.resolve(true);
  const command = createServer(async (socket) => {
    if ((await accepted(socket, true)) && admit(socket)) track(startSession(socket, ctx, false));
  });
  const implicit = createServer(async (socket) => {
    if (!(await accepted(socket, false)) || !admit(socket)) return;
    socket.on("error", () => {});
    ctx.tls.upgrade(socket).then(
      (secure) => {
        inheritAddresses(secure, socket);
        track(startSession(secure, ctx, true));
      },
      (error: unknown) => logger.debug({ err: error }, "implicit TLS handshake failed"),
    );
  });

  const listenOn = (server: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port, host: config.host }, () => resolve((server.address() as { port: number }).port));
    });

  return {
    sessionCount: () => sessions.size,
    async listen(): Promise<{ commandPort: number; implicitPort: number | undefined }> {
      const commandPort = await listenOn(command, config.commandPort);
      const implicitPort =
        config.implicitPort === undefined ? undefined : await listenOn(implicit, config.implicitPort);
      return { commandPort, implicitPort };
    },
    /** Stops accepting, lets running transfers finish for `graceMs`, aborts the rest (426), then 421 and close. */
    async close(graceMs: number): Promise<void> {
      stopping = true;
      const closing = [command, implicit].map(
        (server) =>
          new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
      );
      await Promise.all([...sessions].map((handle) => handle.shutdown(graceMs)));
      await Promise.all(closing);
    },
  };
}

export type FtpServer = ReturnType<typeof createFtpServer>;
