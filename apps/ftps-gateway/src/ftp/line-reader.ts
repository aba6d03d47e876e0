import type { Duplex } from "node:stream";

export type LineEvent =
  | { readonly kind: "line"; readonly text: string }
  | { readonly kind: "too-long" }
  | { readonly kind: "invalid"; readonly reason: "encoding" | "control" };

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Splits a control connection into command lines (CRLF, or a bare LF). Telnet IAC sequences that
 * clients put before ABOR are dropped. A line longer than `maxBytes` is reported once and skipped;
 * a line with NUL, a bare CR or invalid UTF-8 is reported as invalid. Returns a function that detaches
 * the reader (before a TLS upgrade) and hands back any bytes read past the last line.
 */
export function attachLineReader(stream: Duplex, maxBytes: number, onEvent: (event: LineEvent) => void) {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let discarding = false;

  const onData = (chunk: Buffer) => {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline === -1) break;
      const piece = chunk.subarray(start, newline);
      start = newline + 1;
      if (discarding || pendingBytes + piece.length > maxBytes) {
        if (!discarding) onEvent({ kind: "too-long" });
        discarding = false;
        pending = [];
        pendingBytes = 0;
        continue;
      }
      const line = pending.length ? Buffer.concat([...pending, piece]) : piece;
      pending = [];
      pendingBytes = 0;
      onEvent(parse(line));
    }
    const rest = chunk.subarray(start);
    if (rest.length === 0 || discarding) return;
    if (pendingBytes + rest.length > maxBytes) {
      onEvent({ kind: "too-long" });
      discarding = true;
      pending = [];
      pendingBytes = 0;
      return;
    }
    pending.push(Buffer.from(rest));
    pendingBytes += rest.length;
  };
  stream.on("data", onData);
  return () => {
    stream.removeListener("data", onData);
    return Buffer.concat(pending);
  };
}

function parse(raw: Buffer): LineEvent {
  let line = raw.at(-1) === 0x0d ? raw.subarray(0, -1) : raw;
  if (line.includes(0xff)) line = stripTelnet(line);
  if (line.includes(0x00) || line.includes(0x0d)) return { kind: "invalid", reason: "control" };
  try {
    return { kind: "line", text: decoder.decode(line) };
  } catch {
    return { kind: "invalid", reason: "encoding" };
  }
}

/** Drops Telnet commands (IAC x, IAC IAC → 0xFF), as sent with ABOR (IAC IP IAC DM). */
function stripTelnet(line: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < line.length; i++) {
    const byte = line[i]!;
    if (byte !== 0xff) out.push(byte);
    else if (line[i + 1] === 0xff) {
      out.push(0xff);
      i++;
    } else i++;
  }
  return Buffer.from(out);
}
