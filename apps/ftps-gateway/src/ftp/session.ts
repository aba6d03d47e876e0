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
  const { metrics } = ctx.core;
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
    reply(code, text, errorCode) {
      if (session.closed) return;
      // 421 closes the session (shutdown, idle, lockout): not a failed request.
      if (code >= 400 && code !== 421)
        metrics.errors.inc({
          protocol: "ftp",
          code: errorCode ?? (code === 530 ? "UNAUTHENTICATED" : "PROTOCOL"),
        });
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
      metrics.sessions.dec({ protocol: "ftp" });
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
      session.reply(reply.code, reply.text, isWharfError(error) ? error.code : "INTERNAL");
    }
  }

  watch(socket);
  metrics.sessions.inc({ protocol: "ftp" });
  metrics.sessionsTotal.inc({ protocol: "ftp" });
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
