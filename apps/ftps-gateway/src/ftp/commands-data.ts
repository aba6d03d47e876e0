import { isIPv4 } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isWharfError } from "@wharf/errors";
import { userError } from "../core/errors.ts";
import type { Entry } from "../core/listing.ts";
import { resolvePath } from "../core/paths.ts";
import { formatListLine, listArgument, mlsxLine, nlstFolder } from "./listing-format.ts";
import type { Session } from "./session-types.ts";
import { asDataError, runTransfer, sendBody, uploadBody } from "./transfer.ts";

/**
 * A passive listener for the next transfer, or `undefined` after a 425 when every port of the range
 * holds one (not the 451 "Storage unavailable" an UNAVAILABLE error would get: the store is fine).
 */
async function openPassive(s: Session): Promise<number | undefined> {
  s.clearData();
  const listener = await s.ctx.passive.open(s.peer).catch((error: unknown) => {
    if (!isWharfError(error, "UNAVAILABLE")) throw error;
    s.log.warn(
      "no free passive port: every port of FTP_DATA_PORTS_FIRST…+FTP_DATA_PORTS_COUNT holds a transfer; widen the range",
    );
    s.reply(425, "No free passive port, try again later.");
    return undefined;
  });
  if (!listener) return undefined;
  s.data = { kind: "passive", listener };
  return listener.port;
}

export async function pasv(s: Session): Promise<void> {
  if (s.epsvAll) return s.reply(503, "PASV not allowed after EPSV ALL.");
  const address = await s.ctx.passiveAddress(s.peer, s.local);
  if (!isIPv4(address)) return s.reply(425, "PASV needs IPv4; use EPSV.");
  const port = await openPassive(s);
  if (port === undefined) return;
  const numbers = `${address.replaceAll(".", ",")},${port >> 8},${port & 255}`;
  s.reply(227, `Entering Passive Mode (${numbers}).`);
}

export async function epsv(s: Session, argument: string): Promise<void> {
  const arg = argument.trim().toUpperCase();
  if (arg === "ALL") {
    s.epsvAll = true;
    return s.reply(200, "EPSV ALL ok.");
  }
  if (arg !== "" && arg !== "1" && arg !== "2")
    return s.reply(522, "Network protocol not supported, use (1,2).");
  const port = await openPassive(s);
  if (port === undefined) return;
  s.reply(229, `Entering Extended Passive Mode (|||${port}|).`);
}

function setActive(s: Session, host: string, port: number) {
  if (!s.ctx.config.activeMode) return s.reply(502, "Active mode is disabled; use PASV or EPSV.");
  if (s.epsvAll) return s.reply(503, "PORT not allowed after EPSV ALL.");
  if (host !== s.peer) return s.reply(501, "Rejected data connection to a foreign address.");
  if (!Number.isInteger(port) || port < 1024 || port > 65535)
    return s.reply(501, "Rejected data connection to a privileged port.");
  s.clearData();
  s.data = { kind: "active", host, port };
  s.reply(200, "PORT command successful. Consider using PASV.");
}

export function port(s: Session, argument: string) {
  const parts = argument.trim().split(",");
  if (parts.length !== 6 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) < 256))
    return s.reply(501, "Syntax error in parameters or arguments.");
  const n = parts.map(Number);
  setActive(s, n.slice(0, 4).join("."), n[4]! * 256 + n[5]!);
}

export function eprt(s: Session, argument: string) {
  const text = argument.trim();
  const delimiter = text[0];
  const fields = delimiter ? text.split(delimiter) : [];
  if (fields.length !== 5 || !/^\d+$/.test(fields[3]!))
    return s.reply(501, "Syntax error in parameters or arguments.");
  if (fields[1] !== "1" && fields[1] !== "2")
    return s.reply(522, "Network protocol not supported, use (1,2).");
  setActive(s, fields[2]!, Number(fields[3]));
}

export function rest(s: Session, argument: string) {
  if (!/^\d{1,15}$/.test(argument.trim())) return s.reply(501, "REST needs a byte offset.");
  s.restOffset = Number(argument.trim());
  s.reply(350, `Restarting at ${s.restOffset}. Send STORE or RETRIEVE.`);
}

function takeRest(s: Session): number {
  const offset = s.restOffset;
  s.restOffset = 0;
  return offset;
}

function requireWrite(s: Session) {
  if (s.principal?.access !== "rw")
    throw userError("PERMISSION_DENIED", "Permission denied (read-only account).");
}

export async function retr(s: Session, argument: string): Promise<void> {
  const offset = takeRest(s);
  const path = resolvePath(s.cwd, argument);
  const controller = new AbortController();
  const body = await s.vfs!.read(path, offset, controller.signal);
  await runTransfer(s, "download", "Opening BINARY mode data connection.", async (socket, signal) => {
    signal.addEventListener("abort", () => controller.abort(), { once: true });
    return sendBody(body, socket, signal);
  }).finally(() => body.destroy());
}

async function store(s: Session, argument: string, mode: "stor" | "appe"): Promise<void> {
  requireWrite(s);
  const rest = takeRest(s);
  const path = resolvePath(s.cwd, argument);
  const existing = await s.vfs!.checkWritable(path);
  const size = existing?.size ?? 0;
  const offset = mode === "appe" ? size : rest;
  if (offset > size) return s.reply(554, "Restart position beyond end of file.");
  await runTransfer(s, "upload", "Ok to send data.", async (socket, signal, meter) => {
    const upload = uploadBody(socket, s, signal);
    meter(upload.bytes);
    try {
      await s.vfs!.write(path, upload.body, offset, signal);
    } catch (error) {
      throw asDataError(error, upload.body);
    }
    return upload.bytes();
  });
}

export const stor = (s: Session, argument: string) => store(s, argument, "stor");
export const appe = (s: Session, argument: string) => store(s, argument, "appe");

type Format = (entry: Entry) => string;

async function listing(s: Session, argument: string, format: Format, onlyDirs: boolean): Promise<void> {
  const path = resolvePath(s.cwd, argument);
  if (onlyDirs) {
    const entry = await s.vfs!.stat(path);
    if (entry?.type === "file") throw userError("NOT_FOUND", "Not a directory.");
  }
  const entries = s.vfs!.list(path);
  const first = await entries.next();
  await runTransfer(s, "listing", "Here comes the directory listing.", async (socket, signal) => {
    let bytes = 0;
    async function* batches() {
      let batch = first.done ? "" : `${format(first.value)}\r\n`;
      for await (const entry of entries) {
        batch += `${format(entry)}\r\n`;
        if (batch.length < 64 * 1024) continue;
        bytes += Buffer.byteLength(batch);
        yield batch;
        batch = "";
      }
      bytes += Buffer.byteLength(batch);
      if (batch) yield batch;
    }
    // The pipeline ends the socket after the last line, or destroys both sides on a failure or ABOR.
    await pipeline(Readable.from(batches(), { objectMode: false }), socket, { signal });
    return bytes;
  });
}

export function list(s: Session, argument: string): Promise<void> {
  const now = s.ctx.core.now();
  const format = s.ctx.config.listFormat;
  return listing(s, listArgument(argument), (entry) => formatListLine(format, entry, now), false);
}

export function nlst(s: Session, argument: string): Promise<void> {
  const path = listArgument(argument);
  const folder = nlstFolder(path);
  return listing(s, path, (entry) => `${folder}${entry.name}`, false);
}

export function mlsd(s: Session, argument: string): Promise<void> {
  const writable = s.principal?.access === "rw";
  return listing(s, argument, (entry) => mlsxLine(entry, entry.name, writable), true);
}

export async function abor(s: Session): Promise<void> {
  const transfer = s.transfer;
  if (!transfer) {
    s.clearData();
    return s.reply(225, "No transfer to abort.");
  }
  transfer.abort();
  await transfer.done;
  s.reply(226, "ABOR command successful.");
}
