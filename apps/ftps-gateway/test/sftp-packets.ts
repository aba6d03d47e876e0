/**
 * Hand-built SFTP v3 packets (draft-ietf-secsh-filexfer-02) for the fuzzer: requests as fields,
 * encoded to bytes here so a test controls every length, and a parser for the server's answers.
 */

export const Request = {
  INIT: 1,
  OPEN: 3,
  CLOSE: 4,
  READ: 5,
  WRITE: 6,
  LSTAT: 7,
  FSTAT: 8,
  SETSTAT: 9,
  FSETSTAT: 10,
  OPENDIR: 11,
  READDIR: 12,
  REMOVE: 13,
  MKDIR: 14,
  RMDIR: 15,
  REALPATH: 16,
  STAT: 17,
  RENAME: 18,
  READLINK: 19,
  SYMLINK: 20,
  EXTENDED: 200,
} as const;

const Response = {
  VERSION: 2,
  STATUS: 101,
  HANDLE: 102,
  DATA: 103,
  NAME: 104,
  ATTRS: 105,
  EXTENDED_REPLY: 201,
};

/** The longest packet the server takes (ssh2, as OpenSSH: 256 KiB); longer ones end the channel. */
export const maxPacketBytes = 256 * 1024;

export type Field =
  | { readonly u32: number }
  | { readonly u64: bigint }
  | { readonly bytes: Uint8Array }
  /** ATTRS: flags, then size / uid+gid / permissions / atime+mtime / extended count as the flags say. */
  | { readonly attrs: { readonly flags: number; readonly values: readonly number[] } };

export const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

function encodeField(field: Field): Buffer {
  if ("u32" in field) return u32(field.u32);
  if ("u64" in field) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt.asUintN(64, field.u64));
    return b;
  }
  if ("bytes" in field) return Buffer.concat([u32(field.bytes.length), field.bytes]);
  const { flags, values } = field.attrs;
  const parts = [u32(flags)];
  let next = 0;
  const take = () => values[next++] ?? 0;
  if (flags & 0x1) {
    const size = Buffer.alloc(8);
    size.writeBigUInt64BE(BigInt(take()));
    parts.push(size);
  }
  if (flags & 0x2) parts.push(u32(take()), u32(take()));
  if (flags & 0x4) parts.push(u32(take()));
  if (flags & 0x8) parts.push(u32(take()), u32(take()));
  // extended attributes: a count, then that many name/value string pairs (none here)
  if (flags & 0x80000000) parts.push(u32(0));
  return Buffer.concat(parts);
}

/** The packet body (type byte, request id, fields) without its length. */
export function encodeBody(type: number, id: number, fields: readonly Field[]): Buffer {
  return Buffer.concat([
    Buffer.of(type),
    ...(type === Request.INIT ? [] : [u32(id)]),
    ...fields.map(encodeField),
  ]);
}

/** `uint32 length` + body. */
export const framed = (body: Buffer): Buffer => Buffer.concat([u32(body.length), body]);

export const initPacket = (version = 3): Buffer =>
  framed(Buffer.concat([Buffer.of(Request.INIT), u32(version)]));

/**
 * Splits a byte stream the way the server does (length-prefixed packets, one after the other) and
 * says whether the server gives up on it (length 0 or over the limit), and how many zero bytes
 * complete a last packet cut short, so that whatever comes next is read as a packet of its own.
 */
export function framing(stream: Buffer): { fatal: boolean; padding: number } {
  let at = 0;
  while (at < stream.length) {
    const head = Buffer.alloc(4);
    stream.copy(head, 0, at, at + 4);
    const length = head.readUInt32BE(0);
    if (length === 0 || length > maxPacketBytes)
      return { fatal: true, padding: Math.max(0, at + 4 - stream.length) };
    const end = at + 4 + length;
    if (end > stream.length) return { fatal: false, padding: end - stream.length };
    at = end;
  }
  return { fatal: false, padding: 0 };
}

export interface Reply {
  readonly type: number;
  readonly id: number;
  /** STATUS: its code and message. */
  readonly status?: number;
  readonly message?: string;
}

/** Codes the gateway answers with (status.ts); anything else is a bug. */
const knownStatuses = new Set([0, 1, 2, 3, 4, 5, 8]);

/**
 * Reads the server's packets as they arrive; throws on anything SFTP v3 does not allow a server to
 * send (bad lengths, unknown types, truncated fields, unknown status codes).
 */
export class ReplyReader {
  #pending = Buffer.alloc(0);
  readonly replies: Reply[] = [];
  version: number | undefined;

  push(chunk: Buffer): void {
    this.#pending = Buffer.concat([this.#pending, chunk]);
    while (this.#pending.length >= 4) {
      const length = this.#pending.readUInt32BE(0);
      if (length < 5 || length > maxPacketBytes)
        throw new Error(`the server sent a packet of length ${length}`);
      if (this.#pending.length < 4 + length) return;
      const body = this.#pending.subarray(4, 4 + length);
      this.#pending = this.#pending.subarray(4 + length);
      this.#parse(body);
    }
  }

  #parse(body: Buffer): void {
    const type = body[0]!;
    const value = body.readUInt32BE(1);
    if (type === Response.VERSION) {
      if (this.version !== undefined) throw new Error("the server sent VERSION twice");
      this.version = value;
      return;
    }
    if (this.version === undefined) throw new Error(`the server answered type ${type} before VERSION`);
    if (!Object.values(Response).includes(type)) throw new Error(`the server sent packet type ${type}`);
    if (type !== Response.STATUS) {
      this.replies.push({ type, id: value });
      return;
    }
    if (body.length < 9) throw new Error("a STATUS without its code");
    const status = body.readUInt32BE(5);
    if (!knownStatuses.has(status)) throw new Error(`the server sent status ${status}`);
    let message = "";
    if (body.length >= 13) {
      const textLength = body.readUInt32BE(9);
      if (13 + textLength > body.length) throw new Error("a STATUS whose message runs past the packet");
      message = body.toString("utf8", 13, 13 + textLength);
    }
    this.replies.push({ type, id: value, status, message });
  }
}
