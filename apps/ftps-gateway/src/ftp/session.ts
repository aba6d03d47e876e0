import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { LoginGuard } from "@wharf/auth-jwt";
import type { StorageDriver } from "@wharf/storage-driver";
import type { Logger } from "pino";
import type { Authenticator, Principal } from "../core/auth.ts";
import type { FtpMetrics } from "../core/metrics.ts";
import type { PartPool } from "../core/part-pool.ts";
import type { AbortRetrier } from "../core/part-upload.ts";
import type { FolderTime, Vfs } from "../core/vfs.ts";
import { commands } from "./commands.ts";
import type { PassiveListener, PassivePool } from "./data.ts";
import { attachLineReader } from "./line-reader.ts";
import type { ListFormat } from "./listing-format.ts";
import { plainAddress } from "./passive-address.ts";
import { replyFor } from "./replies.ts";
import type { TlsUpgrader } from "./tls.ts";

export interface SessionConfig {
  readonly tlsRequired: boolean;
  readonly sessionReuse: "optional" | "required";
  readonly activeMode: boolean;
  readonly dirSuffix: string;
  readonly rmdRecursive: boolean;
  /** LIST lines: `ls -l` (default), or aioftps3's (folders first per page, `p` files, `%b %e %H:%M`). */
  readonly listFormat: ListFormat;
  readonly maxLineBytes: number;
  readonly idleTimeoutMs: number;
  readonly dataTimeoutMs: number;
  readonly failureDelayMs: number;
  /** How long a STOR waits after the data connection's EOF for the control connection to drop. */
  readonly eofGraceMs: number;
}

/** What every session of one server shares. */
export interface ServerContext {
  readonly config: SessionConfig;
  readonly driver: StorageDriver;
  readonly authenticator: Authenticator;
  readonly guard: LoginGuard;
  readonly tls: TlsUpgrader;
  readonly passive: PassivePool;
  readonly passiveAddress: (peer: string, local: string) => Promise<string>;
  readonly metrics: FtpMetrics;
  readonly logger: Logger;
  readonly now: () => Date;
  /** A folder's own time where the store keeps one (local disk). */
  readonly folderTime?: FolderTime;
  /** Multipart uploads through shared part buffers, for stores that need a length per part (S3). */
  readonly uploads?: {
    readonly pool: PartPool;
    readonly buffersPerSession: number;
    readonly aborts: AbortRetrier;
  };
}

export type DataPlan =
  | { readonly kind: "passive"; readonly listener: PassiveListener }
  | { readonly kind: "active"; readonly host: string; readonly port: number };

export interface ActiveTransfer {
  readonly abort: () => void;
  /** Settles once the transfer's final reply (226, 426, 4xx/5xx) has been sent. */
  readonly done: Promise<void>;
  aborted: boolean;
}

export interface Session {
  readonly id: string;
  readonly ctx: ServerContext;
  readonly log: Logger;
  readonly peer: string;
  readonly local: string;
  socket: Socket | TLSSocket;
  secure: boolean;
  protectData: boolean;
  pbsz: boolean;
  pendingUser: string | undefined;
  principal: Principal | undefined;
  vfs: Vfs | undefined;
  cwd: string;
  restOffset: number;
  renameFrom: string | undefined;
  data: DataPlan | undefined;
  epsvAll: boolean;
  transfer: ActiveTransfer | undefined;
  quitRequested: boolean;
  closed: boolean;
  readonly controlClosed: AbortSignal;
  reply(code: number, text: string | readonly string[]): void;
  /** AUTH TLS: detaches the line reader, runs the handshake and reads lines from the TLS socket. */
  upgradeControl(): Promise<void>;
  clearData(): void;
  close(): void;
}

export interface SessionHandle {
  readonly session: Session;
  /** Stops the session for a shutdown: waits up to `graceMs` for a running transfer, then 421 and close. */
  shutdown(graceMs: number): Promise<void>;
  readonly closed: Promise<void>;
}

/** Runs one FTP control connection (already TLS when it came in on the implicit port). */
export function startSession(socket: Socket | TLSSocket, ctx: ServerContext, secure: boolean): SessionHandle {
  const id = randomUUID().slice(0, 8);
  const peer = plainAddress(socket.remoteAddress);
  const log = ctx.logger.child({ session: id, peer });
  const controlClosed = new AbortController();
  const queue: string[] = [];
  let pumping = false;
  let detach: (() => Buffer) | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });

  const session: Session = {
    id,
    ctx,
    log,
    peer,
    local: plainAddress(socket.localAddress),
    socket,
    secure,
    protectData: false,
    pbsz: false,
    pendingUser: undefined,
    principal: undefined,
    vfs: undefined,
    cwd: "/",
    restOffset: 0,
    renameFrom: undefined,
    data: undefined,
    epsvAll: false,
    transfer: undefined,
    quitRequested: false,
    closed: false,
    controlClosed: controlClosed.signal,
    reply(code, text) {
      if (session.closed) return;
      const lines = typeof text === "string" ? [text] : text;
      let out = "";
      lines.forEach((line, i) => {
        const safe = line.replace(/[\r\n]/g, " ");
        if (i === lines.length - 1) out += `${code} ${safe}\r\n`;
        else out += i === 0 ? `${code}-${safe}\r\n` : ` ${safe}\r\n`;
      });
      session.socket.write(out);
    },
    async upgradeControl() {
      detach?.();
      detach = undefined;
      session.secure = true;
      const upgraded = await ctx.tls.upgrade(session.socket as Socket);
      watch(upgraded);
      session.socket = upgraded;
      listen();
    },
    clearData() {
      if (session.data?.kind === "passive") session.data.listener.close();
      session.data = undefined;
    },
    close() {
      if (session.closed) return;
      session.closed = true;
      clearTimeout(idleTimer);
      controlClosed.abort();
      session.transfer?.abort();
      session.clearData();
      session.socket.end();
      session.socket.destroySoon();
      setTimeout(() => session.socket.destroy(), 2000).unref();
    },
  };

  function watch(s: Socket | TLSSocket) {
    s.setNoDelay(true);
    s.on("error", (error) => log.debug({ err: error }, "control connection error"));
    s.on("close", () => {
      if (s !== session.socket) return;
      session.close();
      ctx.metrics.sessions.dec();
      log.info("session closed");
      resolveClosed();
    });
  }

  function resetIdle() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      if (session.transfer) return resetIdle();
      session.reply(421, "Idle timeout, closing control connection.");
      session.close();
    }, ctx.config.idleTimeoutMs);
  }

  function listen() {
    detach = attachLineReader(session.socket, ctx.config.maxLineBytes, (event) => {
      resetIdle();
      if (event.kind === "too-long") return session.reply(500, "Command line too long.");
      if (event.kind === "invalid")
        return session.reply(
          501,
          event.reason === "control" ? "Control characters not allowed." : "Invalid UTF-8.",
        );
      const verb = verbOf(event.text);
      if (session.transfer && commands[verb]?.urgent) void run(event.text);
      else {
        queue.push(event.text);
        void pump();
      }
    });
  }

  async function pump() {
    if (pumping) return;
    pumping = true;
    try {
      while (queue.length > 0 && !session.closed) await run(queue.shift()!);
    } finally {
      pumping = false;
    }
  }

  async function run(line: string) {
    const verb = verbOf(line);
    const argument = line.slice(verb.length + 1);
    const command = commands[verb];
    log.debug({ verb }, "command");
    if (!command) return session.reply(502, "Command not implemented.");
    if (command.needsLogin && !session.principal)
      return session.reply(530, "Please login with USER and PASS.");
    if (command.argument === "required" && argument.trim() === "")
      return session.reply(501, "Syntax error in parameters or arguments.");
    if (verb !== "RNTO" && verb !== "RNFR")
      session.renameFrom = verb === "REST" ? session.renameFrom : undefined;
    try {
      await command.handler(session, argument);
    } catch (error) {
      const reply = replyFor(error);
      if (reply.code === 451) log.error({ err: error, verb }, "command failed");
      session.reply(reply.code, reply.text);
    }
  }

  watch(socket);
  ctx.metrics.sessions.inc();
  log.info({ secure }, "session opened");
  session.reply(220, "Service ready for new user.");
  resetIdle();
  listen();

  return {
    session,
    closed,
    async shutdown(graceMs) {
      const transfer = session.transfer;
      if (transfer) {
        const timer = setTimeout(() => transfer.abort(), graceMs);
        await transfer.done;
        clearTimeout(timer);
      }
      session.reply(421, "Service not available, closing control connection.");
      session.close();
      await closed;
    },
  };
}

function verbOf(line: string): string {
  const space = line.indexOf(" ");
  return (space === -1 ? line : line.slice(0, space)).toUpperCase();
}
