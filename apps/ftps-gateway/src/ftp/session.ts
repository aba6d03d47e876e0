import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { isWharfError } from "@wharf/errors";
import { plainAddress } from "../core/address.ts";
import { commands } from "./commands.ts";
import { attachLineReader } from "./line-reader.ts";
import { replyFor } from "./replies.ts";
import type { ServerContext, Session, SessionHandle } from "./session-types.ts";

/** Runs one FTP control connection (already TLS when it came in on the implicit port). */
export function startSession(socket: Socket | TLSSocket, ctx: ServerContext, secure: boolean): SessionHandle {
  const id = randomUUID().slice(0, 8);
  const peer = plainAddress(socket.remoteAddress);
  const log = ctx.logger.child({ session: id, protocol: "ftp", peer });
  const debug = log.isLevelEnabled("debug");
  const { metrics } = ctx.core;
  const controlClosed = new AbortController();
  const queue: string[] = [];
  let pumping = false;
  let detach: (() => Buffer) | undefined;
  let local: string | undefined;
  let lingerTimer: NodeJS.Timeout | undefined;
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });

  // One timer per session, restarted by each command line (refresh, not a new timer each time).
  const idleTimer = setTimeout(function onIdle() {
    if (session.transfer) return resetIdle();
    session.reply(421, "Idle timeout, closing control connection.");
    session.close();
  }, ctx.config.idleTimeoutMs);
  const resetIdle = () => void idleTimer.refresh();

  const session: Session = {
    id,
    ctx,
    log,
    peer,
    // Asked of the kernel (getsockname) only when PASV announces it, not at every login.
    get local() {
      local ??= plainAddress(socket.localAddress);
      return local;
    },
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
    reply(code, text, errorCode) {
      if (session.closed) return;
      // 421 closes the session (shutdown, idle, lockout): not a failed request.
      if (code >= 400 && code !== 421)
        metrics.errors.inc({
          protocol: "ftp",
          code: errorCode ?? (code === 530 ? "UNAUTHENTICATED" : "PROTOCOL"),
        });
      session.socket.write(typeof text === "string" ? `${code} ${oneLine(text)}\r\n` : multiline(code, text));
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
      controlClosed.abort(closedReason);
      session.transfer?.abort();
      session.clearData();
      session.socket.end();
      session.socket.destroySoon();
      lingerTimer = setTimeout(() => session.socket.destroy(), 2000).unref();
    },
  };

  function watch(s: Socket | TLSSocket) {
    s.on("error", (error) => log.debug({ err: error }, "control connection error"));
    s.on("close", () => {
      if (s !== session.socket) return;
      session.close();
      clearTimeout(lingerTimer);
      metrics.sessions.dec({ protocol: "ftp" });
      log.info("session closed");
      resolveClosed();
    });
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
    if (debug) log.debug({ verb }, "command");
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
      session.reply(reply.code, reply.text, isWharfError(error) ? error.code : "INTERNAL");
    }
  }

  // Once, on the TCP connection: an AUTH TLS socket over it keeps the setting.
  socket.setNoDelay(true);
  watch(socket);
  metrics.sessions.inc({ protocol: "ftp" });
  metrics.sessionsTotal.inc({ protocol: "ftp" });
  log.info({ secure }, "session opened");
  session.reply(220, "Service ready for new user.");
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

/** What `controlClosed` is aborted with: one shared reason, not a DOMException (and its stack) per session. */
const closedReason = new Error("control connection closed");

const oneLine = (text: string) => text.replace(/[\r\n]/g, " ");

/** `code-first`, ` middle` lines, `code last` (RFC 959 multi-line reply). */
function multiline(code: number, lines: readonly string[]): string {
  let out = "";
  lines.forEach((line, i) => {
    if (i === lines.length - 1) out += `${code} ${oneLine(line)}\r\n`;
    else out += i === 0 ? `${code}-${oneLine(line)}\r\n` : ` ${oneLine(line)}\r\n`;
  });
  return out;
}

function verbOf(line: string): string {
  const space = line.indexOf(" ");
  return (space === -1 ? line : line.slice(0, space)).toUpperCase();
}
