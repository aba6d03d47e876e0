import { randomUUID } from "node:crypto";
import { createServer, type Socket } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "pino";
import ssh2, { type Algorithms, type Connection, type SFTPWrapper } from "ssh2";
import { plainAddress } from "../core/address.ts";
import type { Config, UserConfig } from "../core/config.ts";
import type { Core } from "../core/core.ts";
import { createConnectionLimits, type RefusalReason } from "../core/limits.ts";
import type { HostKey } from "./host-keys.ts";
import { serveSftp } from "./sftp-session.ts";
import { createSshAuth } from "./ssh-auth.ts";

export interface SftpServerOptions {
  readonly config: NonNullable<Config["sftp"]>;
  readonly hostKeys: readonly HostKey[];
  readonly core: Core;
  /** The gateway's users, for their public keys. */
  readonly users: readonly UserConfig[];
  readonly limits: {
    readonly maxConnections: number;
    readonly maxConnectionsPerIp: number;
    readonly idleTimeoutMs: number;
  };
  readonly logger: Logger;
  /** Runs on each accepted socket before SSH (the PROXY protocol); false: it was refused and closed. */
  readonly accept?: (socket: Socket) => Promise<boolean>;
}

/** How long a drained connection waits for the client to close it, after its SFTP channels ended. */
const clientCloseWaitMs = 2000;

/** Modern algorithms only; `SFTP_LEGACY_ALGORITHMS` adds what older clients still need. */
export function sshAlgorithms(legacy: boolean): Algorithms {
  return {
    kex: [
      "curve25519-sha256",
      "curve25519-sha256@libssh.org",
      "ecdh-sha2-nistp256",
      "ecdh-sha2-nistp384",
      "ecdh-sha2-nistp521",
      "diffie-hellman-group16-sha512",
      "diffie-hellman-group14-sha256",
      ...(legacy ? ["diffie-hellman-group14-sha1"] : []),
    ],
    // AEAD first; CTR with SHA-2 MACs as OpenSSH still offers by default (paramiko before 3.x has no GCM).
    cipher: [
      "aes256-gcm@openssh.com",
      "aes128-gcm@openssh.com",
      "chacha20-poly1305@openssh.com",
      "aes256-ctr",
      "aes192-ctr",
      "aes128-ctr",
      ...(legacy ? ["aes256-cbc", "aes128-cbc"] : []),
    ],
    serverHostKey: [
      "ssh-ed25519",
      "ecdsa-sha2-nistp256",
      "ecdsa-sha2-nistp384",
      "ecdsa-sha2-nistp521",
      "rsa-sha2-512",
      "rsa-sha2-256",
    ],
    hmac: [
      "hmac-sha2-256-etm@openssh.com",
      "hmac-sha2-512-etm@openssh.com",
      "hmac-sha2-256",
      "hmac-sha2-512",
      ...(legacy ? ["hmac-sha1"] : []),
    ],
    compress: ["none"],
  } as Algorithms;
}

/** Session requests and channels other than the `sftp` subsystem, all refused. */
const refusedSessionRequests = ["pty", "shell", "exec", "x11", "auth-agent", "subsystem", "env"] as const;

/**
 * The SSH listener: logins as FTP's (see ssh-auth.ts), then only the `sftp` subsystem on a session
 * channel. Shell, exec, port forwarding, agent and X11 are refused and logged.
 */
export function createSftpServer(options: SftpServerOptions) {
  const { config, logger, core } = options;
  const { metrics } = core;
  const auth = createSshAuth({ users: options.users, logins: core.logins });
  const clients = new Set<{ drain: (deadline: Promise<void>) => Promise<void> }>();
  const limits = createConnectionLimits(options.limits);
  let stopping = false;

  const server = new ssh2.Server(
    {
      hostKeys: options.hostKeys.map((key) => key.pem),
      algorithms: sshAlgorithms(config.legacyAlgorithms),
      ident: "ftps-gateway",
      debug: logger.isLevelEnabled("trace") ? (line: string) => logger.trace(line) : undefined,
    },
    (connection, info) => {
      const ip = plainAddress(info.ip);
      const log = logger.child({ session: randomUUID().slice(0, 8), protocol: "sftp", peer: ip });
      connection.on("error", (error) => log.debug({ err: error }, "ssh connection error"));
      // the connection's open SFTP channels (one connection may open and close any number of them)
      const sessions = new Set<{ served: ReturnType<typeof serveSftp>; channel: SFTPWrapper }>();
      const close = async () => {
        await Promise.all([...sessions].map(({ served }) => served.close()));
        drop(connection);
      };
      const gone = new Promise<void>((resolve) => connection.once("close", () => resolve()));
      const client = {
        /**
         * Lets open files finish their transfer (up to the `deadline`), then ends the SFTP channels
         * as at the client's EOF and gives the client a moment to close the connection itself
         * (OpenSSH's ssh drops the last replies it has not passed on yet when it gets a DISCONNECT),
         * then ends the connection.
         */
        async drain(deadline: Promise<void>) {
          const open = sessions.size;
          await Promise.race([Promise.all([...sessions].map(({ served }) => served.drain())), deadline]);
          for (const { channel } of sessions) endSubsystem(channel);
          if (open > 0)
            await Promise.race([gone, deadline, delay(clientCloseWaitMs, undefined, { ref: false })]);
          log.info({ sessions: open }, "ssh connection drained");
          await close();
        },
      };
      clients.add(client);
      let timer: NodeJS.Timeout | undefined;
      const touch = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          log.info("idle timeout");
          void close();
        }, options.limits.idleTimeoutMs);
      };
      let principal: Awaited<ReturnType<typeof auth.authenticate>>;
      connection.on("authentication", (ctx) => {
        auth.authenticate(ctx, ip, log).then(
          (who) => {
            principal ??= who;
          },
          (error: unknown) => {
            log.error({ err: error }, "authentication failed with an error");
            ctx.reject();
          },
        );
      });
      connection.on("ready", () => {
        const socket = socketOf(connection);
        if (socket) clearTimeout(loginDeadlines.get(socket));
        touch();
        connection.on("session", (acceptSession) => {
          const session = acceptSession();
          session.on("sftp", (acceptSftp) => {
            if (!principal) return;
            const sftp = acceptSftp();
            const served = serveSftp(sftp, principal, {
              core,
              reorderWindowBytes: config.reorderWindowBytes,
              log,
              onRequest: touch,
            });
            const entry = { served, channel: sftp };
            sessions.add(entry);
            onMalformedPacket(sftp, (error) =>
              log.info({ err: error }, "sftp channel closed on a malformed packet"),
            );
            sftp.on("end", () => endSubsystem(sftp));
            sftp.on("close", () => {
              sessions.delete(entry);
              void served.close();
            });
          });
          for (const name of refusedSessionRequests)
            session.on(name, (_accept: unknown, reject?: () => void) => {
              log.info({ request: name }, "refused an ssh session request");
              reject?.();
            });
        });
        connection.on("tcpip", (_accept, reject) => {
          log.info("refused port forwarding");
          reject();
        });
        connection.on("openssh.streamlocal", (_accept, reject) => reject());
        connection.on("request", (_accept, reject, name) => {
          log.info({ request: name }, "refused a global ssh request");
          reject?.();
        });
      });
      connection.on("close", () => {
        clearTimeout(timer);
        clients.delete(client);
        void Promise.all([...sessions].map(({ served }) => served.close()));
      });
    },
  );

  // Sockets are accepted here and handed to ssh2, so the connection limits turn a client away before
  // any key exchange, and one that never says a word (ssh2 only reports a connection once the
  // client's version line came) is still closed at the login deadline.
  const loginDeadlines = new WeakMap<Socket, NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  // No Nagle: ssh2 writes a packet in pieces, and a request's answer waited for the client's delayed ACK.
  const tcp = createServer({ noDelay: true }, (socket) => {
    const peer = plainAddress(socket.remoteAddress);
    const slot: ReturnType<typeof limits.admit> = stopping ? { refused: "shutdown" } : limits.admit(peer);
    if ("refused" in slot) {
      metrics.connectionsRefused.inc({ protocol: "sftp", reason: slot.refused });
      logger.info({ protocol: "sftp", peer, reason: slot.refused }, "ssh connection refused");
      refuse(socket, slot.refused);
      return;
    }
    sockets.add(socket);
    metrics.sessions.inc({ protocol: "sftp" });
    metrics.sessionsTotal.inc({ protocol: "sftp" });
    const deadline = setTimeout(() => {
      logger.info({ protocol: "sftp", peer }, "login timeout");
      socket.destroy();
    }, config.loginTimeoutMs);
    loginDeadlines.set(socket, deadline);
    socket.once("close", () => {
      clearTimeout(deadline);
      sockets.delete(socket);
      slot.release();
      metrics.sessions.dec({ protocol: "sftp" });
    });
    void (options.accept?.(socket) ?? Promise.resolve(true)).then((ok) => {
      if (ok) server.injectSocket(socket);
    });
  });

  return {
    sessionCount: () => sockets.size,
    listen: () =>
      new Promise<number>((resolve, reject) => {
        tcp.once("error", reject);
        tcp.listen({ port: config.port, host: config.host }, () =>
          resolve((tcp.address() as { port: number }).port),
        );
      }),
    /**
     * Stops accepting; lets files being transferred finish for up to `graceMs` (new OPENs are
     * refused), then ends every connection. Uploads not closed by then are aborted and leave nothing.
     */
    async close(graceMs = 0): Promise<void> {
      stopping = true;
      const closed = new Promise<void>((resolve) => (tcp.listening ? tcp.close(() => resolve()) : resolve()));
      const deadline = delay(graceMs, undefined, { ref: false });
      await Promise.all([...clients].map((client) => client.drain(deadline)));
      for (const socket of sockets) socket.destroySoon();
      await closed;
    },
  };
}

const refusalTexts: Readonly<Record<RefusalReason, string>> = {
  shutdown: "The server is shutting down; try again shortly.",
  limit: "Too many users, try later.",
  per_ip: "Too many connections from your address.",
};

/**
 * Turns a connection away before any key exchange, in SSH's own terms: the version line, then a
 * DISCONNECT (reason 12, too many connections; the packet is in clear before the keys are agreed,
 * RFC 4253 §6), which OpenSSH prints as `Received disconnect from …: Too many connections …`. What
 * the client sends is read and dropped until it closes, so our DISCONNECT is not lost to a reset.
 */
function refuse(socket: Socket, reason: RefusalReason): void {
  socket.on("error", () => {});
  socket.on("data", () => {});
  const text = Buffer.from(refusalTexts[reason]);
  const payload = Buffer.alloc(1 + 4 + 4 + text.length + 4);
  payload[0] = 1; // SSH_MSG_DISCONNECT
  payload.writeUInt32BE(reason === "shutdown" ? 7 : 12, 1); // SERVICE_NOT_AVAILABLE, TOO_MANY_CONNECTIONS
  payload.writeUInt32BE(text.length, 5);
  text.copy(payload, 9);
  // The language tag, empty: the last four bytes stay zero.
  let padding = 8 - ((4 + 1 + payload.length) % 8);
  if (padding < 4) padding += 8;
  const packet = Buffer.alloc(4 + 1 + payload.length + padding);
  packet.writeUInt32BE(1 + payload.length + padding, 0);
  packet[4] = padding;
  payload.copy(packet, 5);
  socket.end(Buffer.concat([Buffer.from("SSH-2.0-ftps-gateway\r\n"), packet]));
  setTimeout(() => socket.destroy(), 5000).unref();
}

export type SftpServer = ReturnType<typeof createSftpServer>;

/**
 * Says goodbye (SSH DISCONNECT) and closes the socket once that is written, whether or not the
 * client answers: `end()` alone half-closes and waits for a client that may never close its side.
 */
function drop(connection: Connection): void {
  connection.end();
  socketOf(connection)?.destroySoon();
}

/** The TCP socket under an ssh2 connection (ssh2 keeps it as `_sock`). */
function socketOf(connection: Connection): Socket | undefined {
  return (connection as unknown as { _sock?: Socket })._sock;
}

/**
 * ssh2 reports a malformed SFTP packet (a length of 0 or over 256 KiB, an unknown type, fields past
 * the end) as an `error` on the channel and closes it; unheard, that error ends the whole SSH
 * connection. A declared length of 2 GiB or more it reads as negative: it waits for more bytes and
 * then throws, which also ends the connection; here it is refused at once. Either way its parser
 * stays inside the refused packet, so bytes the client sends before it sees the close would be
 * read as that packet's body (a buffer of the declared length) or throw again. Here each ends only
 * the channel, later bytes are dropped, and the client's EOF still ends it.
 */
function onMalformedPacket(sftp: SFTPWrapper, report: (error: unknown) => void): void {
  const parser = sftp as unknown as {
    push(data: Buffer | null): unknown;
    _pktLen: number;
    _pktLenBytes: number;
  };
  const push = parser.push.bind(parser);
  let broken = false;
  sftp.on("error", (error: Error) => {
    broken = true;
    report(error);
  });
  parser.push = (data) => {
    if (data === null) return push(null);
    if (broken) return undefined;
    try {
      const result = push(data);
      // a length it read as negative: ssh2 would wait for the next bytes and then throw
      if (parser._pktLenBytes === 4 && parser._pktLen < 0)
        throw new Error(`Packet length ${parser._pktLen >>> 0} exceeds max length`);
      return result;
    } catch (error) {
      broken = true;
      report(error);
      sftp.destroy();
      return undefined;
    }
  };
}

/**
 * The client's EOF ends the subsystem: answer `exit-status 0` as OpenSSH's sftp-server does (scp
 * exits 1 without it) and close the channel so the client can exit. ssh2 has no public call for a
 * subsystem's exit status, so this uses the channel fields its SFTP object keeps.
 */
function endSubsystem(sftp: SFTPWrapper): void {
  const channel = sftp as unknown as {
    _protocol?: { exitStatus(id: number, status: number): void };
    outgoing?: { id: number; state: string };
  };
  if (channel.outgoing?.state === "open") channel._protocol?.exitStatus(channel.outgoing.id, 0);
  sftp.end();
}
