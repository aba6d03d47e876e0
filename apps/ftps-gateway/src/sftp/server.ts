import { randomUUID } from "node:crypto";
import { createServer, type Socket } from "node:net";
import type { Logger } from "pino";
import ssh2, { type Algorithms, type Connection, type SFTPWrapper } from "ssh2";
import { plainAddress } from "../addresses.ts";
import type { Config } from "../config.ts";
import type { HostKey } from "./host-keys.ts";
import { type SftpFilesOptions, serveSftp } from "./sftp-session.ts";
import { createSshAuth, type SshAuthOptions } from "./ssh-auth.ts";

export interface SftpServerOptions {
  readonly config: NonNullable<Config["sftp"]>;
  readonly hostKeys: readonly HostKey[];
  readonly auth: SshAuthOptions;
  readonly files: SftpFilesOptions;
  readonly limits: {
    readonly maxConnections: number;
    readonly maxConnectionsPerIp: number;
    readonly idleTimeoutMs: number;
  };
  readonly logger: Logger;
}

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
  const { config, logger, limits } = options;
  const auth = createSshAuth(options.auth);
  const clients = new Set<{ connection: Connection; close: () => Promise<void> }>();
  const perIp = new Map<string, number>();
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
      const log = logger.child({ session: randomUUID(), protocol: "sftp", peer: ip });
      connection.on("error", (error) => log.debug({ err: error }, "ssh connection error"));
      if (
        stopping ||
        clients.size >= limits.maxConnections ||
        (perIp.get(ip) ?? 0) >= limits.maxConnectionsPerIp
      ) {
        log.info({ reason: stopping ? "shutdown" : "limit" }, "ssh connection refused");
        connection.end();
        return;
      }
      perIp.set(ip, (perIp.get(ip) ?? 0) + 1);
      // the connection's open SFTP channels (one connection may open and close any number of them)
      const sessions = new Set<{ close(): Promise<void> }>();
      const client = {
        connection,
        close: async () => {
          await Promise.all([...sessions].map((session) => session.close()));
          drop(connection);
        },
      };
      clients.add(client);
      let timer: NodeJS.Timeout | undefined;
      const touch = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          log.info("idle timeout");
          void client.close();
        }, limits.idleTimeoutMs);
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
            const served = serveSftp(sftp, principal, { ...options.files, log, onRequest: touch });
            sessions.add(served);
            onMalformedPacket(sftp, (error) =>
              log.info({ err: error }, "sftp channel closed on a malformed packet"),
            );
            sftp.on("end", () => endSubsystem(sftp));
            sftp.on("close", () => {
              sessions.delete(served);
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
        void Promise.all([...sessions].map((session) => session.close()));
        const left = (perIp.get(ip) ?? 1) - 1;
        if (left <= 0) perIp.delete(ip);
        else perIp.set(ip, left);
      });
    },
  );

  // Sockets are accepted here and handed to ssh2, so a client that never says a word (ssh2 only
  // reports a connection once the client's version line came) is still closed at the login deadline.
  const loginDeadlines = new WeakMap<Socket, NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  // No Nagle: ssh2 writes a packet in pieces, and a request's answer waited for the client's delayed ACK.
  const tcp = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    const deadline = setTimeout(() => {
      logger.info({ protocol: "sftp", peer: plainAddress(socket.remoteAddress) }, "login timeout");
      socket.destroy();
    }, config.loginTimeoutMs);
    loginDeadlines.set(socket, deadline);
    socket.once("close", () => {
      clearTimeout(deadline);
      sockets.delete(socket);
    });
    server.injectSocket(socket);
  });

  return {
    sessionCount: () => clients.size,
    listen: () =>
      new Promise<number>((resolve, reject) => {
        tcp.once("error", reject);
        tcp.listen({ port: config.port, host: config.host }, () =>
          resolve((tcp.address() as { port: number }).port),
        );
      }),
    /** Stops accepting and ends every connection; uploads not closed yet are aborted, nothing partial stays. */
    async close(): Promise<void> {
      stopping = true;
      const closed = new Promise<void>((resolve) => (tcp.listening ? tcp.close(() => resolve()) : resolve()));
      await Promise.all([...clients].map((client) => client.close()));
      for (const socket of sockets) socket.destroySoon();
      await closed;
    },
  };
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
