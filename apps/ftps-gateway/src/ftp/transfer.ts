import type { Socket } from "node:net";
import { PassThrough, type Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { TLSSocket } from "node:tls";
import { WharfError } from "@wharf/errors";
import { BufferPool, type FillableBody, heedErrors, isFillable } from "@wharf/storage-driver";
import { connectActive } from "./data.ts";
import { replyFor } from "./replies.ts";
import type { ActiveTransfer, Session } from "./session-types.ts";
import { SocketBody } from "./socket-body.ts";

export type Direction = "upload" | "download" | "listing";

/** Lets `work` say how to count the bytes moved so far, for the log line of a transfer that fails. */
export type Meter = (bytesSoFar: () => number) => void;

/** Thrown inside a transfer when the data connection itself failed: the client gets 426. */
class DataConnectionError extends Error {}

/**
 * Runs one data transfer: 150, open the data connection (passive accept or active connect, then TLS
 * when PROT P), `work(socket, signal)`, then 226, or 426 when the connection broke or ABOR came, or
 * the storage error's reply. Checks that can fail (missing file, bad name) belong before this call,
 * so their reply comes instead of 150.
 */
export async function runTransfer(
  s: Session,
  direction: Direction,
  opening: string,
  work: (socket: Socket | TLSSocket, signal: AbortSignal, meter: Meter) => Promise<number>,
): Promise<void> {
  const { config } = s.ctx;
  const { metrics } = s.ctx.core;
  const plan = s.data;
  s.data = undefined;
  if (!plan) return s.reply(425, "Use PASV or EPSV first.");
  if (config.tlsRequired && !s.protectData) {
    if (plan.kind === "passive") plan.listener.close();
    return s.reply(521, "Data connections must be encrypted (PROT P).");
  }
  const controller = new AbortController();
  let socket: Socket | TLSSocket | undefined;
  let finish: () => void = () => {};
  const transfer: ActiveTransfer = {
    aborted: false,
    abort: () => {
      transfer.aborted = true;
      controller.abort(new WharfError("CANCELLED", "transfer aborted"));
      if (plan.kind === "passive") plan.listener.close();
      socket?.destroy();
    },
    done: new Promise<void>((resolve) => {
      finish = resolve;
    }),
  };
  s.transfer = transfer;
  s.reply(150, opening);
  const started = performance.now();
  let outcome = "ok";
  let bytes = 0;
  let moved: (() => number) | undefined;
  try {
    socket = await openData(s, plan, direction).catch((cause) => {
      throw new DataConnectionError("no data connection", { cause });
    });
    // Writes and pipelines fail with the socket's error; this listener keeps it from being unheard.
    socket.on("error", (error) => s.log.debug({ err: error }, "data connection error"));
    if (transfer.aborted) throw new DataConnectionError("aborted");
    socket.setTimeout(config.dataTimeoutMs, () => socket?.destroy(new Error("data connection stalled")));
    bytes = await work(socket, controller.signal, (count) => {
      moved = count;
    });
    s.reply(226, "Transfer complete.");
  } catch (error) {
    socket?.destroy();
    s.log.info({ err: error, direction }, "transfer failed");
    if (transfer.aborted || error instanceof DataConnectionError || !isStorageError(error)) {
      outcome = transfer.aborted ? "aborted" : "broken";
      if (error instanceof DataConnectionError && !transfer.aborted && !socket)
        s.reply(425, "Can't open data connection.", "UNAVAILABLE");
      else s.reply(426, "Connection closed; transfer aborted.", "CANCELLED");
    } else {
      outcome = "failed";
      const reply = replyFor(error);
      if (reply.code === 451) s.log.error({ err: error }, `${direction} failed`);
      s.reply(reply.code, reply.text, (error as WharfError).code);
    }
  } finally {
    if (outcome !== "ok" && moved) bytes = moved();
    s.transfer = undefined;
    metrics.transfers.inc({ protocol: "ftp", direction, outcome });
    metrics.bytes.inc({ protocol: "ftp", direction }, bytes);
    s.log.info({ direction, outcome, bytes, ms: Math.round(performance.now() - started) }, "transfer");
    finish();
  }
}

function isStorageError(error: unknown): boolean {
  return error instanceof WharfError && error.code !== "CANCELLED";
}

/** Upload bodies of plain data connections taken over for `onread`, by their new socket. */
const socketBodies = new WeakMap<Socket, SocketBody>();

async function openData(
  s: Session,
  plan: NonNullable<Session["data"]>,
  direction: Direction,
): Promise<Socket | TLSSocket> {
  const raw =
    plan.kind === "passive"
      ? await plan.listener.accept()
      : await connectActive(plan.host, plan.port, s.ctx.config.dataTimeoutMs);
  if (!s.protectData) {
    // A plain upload is read from the socket straight into the store's buffers (S3 part buffers,
    // the fs driver's write buffers). Only a passive connection is sure not to have read anything
    // yet (`pauseOnConnect`).
    if (direction === "upload" && plan.kind === "passive" && SocketBody.canAdopt(raw)) {
      const body = new SocketBody(raw);
      socketBodies.set(body.socket, body);
      return body.socket;
    }
    raw.resume();
    return raw;
  }
  const secure = await s.ctx.tls.upgrade(raw);
  const reused = secure.isSessionReused();
  s.ctx.core.metrics.tlsDataSessions.inc({ reused: String(reused) });
  if (!reused && s.ctx.config.sessionReuse === "required") {
    secure.destroy();
    throw new Error("TLS session reuse required");
  }
  return secure;
}

/** Bytes of each of the two buffers a download from a fillable body (fs) takes turns with. */
const SEND_BUFFER_BYTES = 1 << 20;
const sendBuffers = new BufferPool(SEND_BUFFER_BYTES, 8);

/**
 * Sends a body that fills buffers itself (the fs driver's files): two reused 1 MiB buffers take
 * turns, one read from the file while the other is on its way to the client, instead of a fresh
 * buffer per read (about 10% of plain RETR's speed on a 2-core VM, in page faults and frees).
 */
async function sendFilled(
  body: Readable & FillableBody,
  socket: Writable,
  signal: AbortSignal,
): Promise<number> {
  const buffers = [sendBuffers.take(), sendBuffers.take()];
  const sending: (Promise<void> | undefined)[] = [undefined, undefined];
  let bytes = 0;
  try {
    for (let turn = 0; ; turn ^= 1) {
      await sending[turn];
      if (signal.aborted) throw signal.reason;
      const buffer = buffers[turn]!;
      const n = await body.fill(buffer, 0);
      if (n > 0) {
        bytes += n;
        const sent = new Promise<void>((resolve, reject) =>
          socket.write(buffer.subarray(0, n), (error) => (error ? reject(error) : resolve())),
        );
        sent.catch(() => {});
        sending[turn] = sent;
      }
      if (n < buffer.length) break;
    }
    await Promise.all(sending);
    await new Promise<void>((resolve, reject) =>
      socket.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
  } catch (error) {
    body.destroy();
    throw new DataConnectionError("send failed", { cause: error });
  }
  body.destroy();
  // Reused only after a clean send: a failed write may still be queued on a destroyed socket.
  for (const buffer of buffers) sendBuffers.give(buffer);
  return bytes;
}

/** Sends `body` on the data connection and ends it (TLS close_notify included). */
export async function sendBody(body: Readable, socket: Writable, signal: AbortSignal): Promise<number> {
  if (isFillable(body)) return sendFilled(body, socket, signal);
  let bytes = 0;
  body.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
  });
  try {
    await pipeline(body, socket, { signal });
  } catch (error) {
    body.destroy();
    throw new DataConnectionError("send failed", { cause: error });
  }
  return bytes;
}

/**
 * The upload body: the data connection's bytes, with its EOF held back for a moment so a client that
 * died (its control connection drops with the data connection) is told apart from a finished file.
 * A reset, an error, or the control connection closing first destroys the body, so nothing is stored.
 */
export function uploadBody(
  socket: Socket | TLSSocket,
  s: Session,
  signal: AbortSignal,
): { body: Readable; bytes: () => number } {
  const adopted = socketBodies.get(socket);
  if (adopted) {
    // Read with `onread` straight into the store's buffers (see SocketBody).
    watchUpload(adopted.socket, s, signal, {
      finish: () => adopted.finish(),
      fail: (reason) => adopted.fail(new DataConnectionError(reason)),
    });
    return { body: adopted, bytes: () => adopted.bytes };
  }
  // Failed by `watchUpload` perhaps before the store reads it (an APPE copies the old bytes first).
  const body = heedErrors(new PassThrough({ highWaterMark: 1 << 20 }));
  let bytes = 0;
  socket.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
    if (!body.write(chunk)) socket.pause();
  });
  body.on("drain", () => socket.resume());
  watchUpload(socket, s, signal, {
    finish: () => body.end(),
    fail: (reason) => {
      if (!body.destroyed) body.destroy(new DataConnectionError(reason));
    },
  });
  return { body, bytes: () => bytes };
}

/**
 * The end-of-file rules of an upload's data connection: `finish` once the client's EOF has stood for
 * `eofGraceMs` with the session alive; `fail` on an error, a close before EOF, an abort, or the
 * control connection closing.
 */
function watchUpload(
  socket: Socket,
  s: Session,
  signal: AbortSignal,
  body: { finish: () => void; fail: (reason: string) => void },
): void {
  let ended = false;
  socket.on("end", () => {
    ended = true;
    setTimeout(() => {
      if (s.controlClosed.aborted || signal.aborted) body.fail("client went away");
      else body.finish();
    }, s.ctx.config.eofGraceMs);
  });
  socket.on("error", () => body.fail("data connection error"));
  socket.on("close", () => {
    if (!ended) body.fail("data connection closed");
  });
  signal.addEventListener("abort", () => body.fail("aborted"), { once: true });
  s.controlClosed.addEventListener("abort", () => body.fail("control connection closed"), { once: true });
}

/** Wraps errors from the upload body so the caller replies 426, not a storage code. */
export function asDataError(error: unknown, body: Readable): unknown {
  const cause = (body as { errored?: unknown }).errored;
  return cause instanceof DataConnectionError ? cause : error;
}
