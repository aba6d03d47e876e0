import { once } from "node:events";
import { setImmediate as nextTurn } from "node:timers/promises";
import { readAll } from "@wharf/storage-driver";
import { type FuzzSurface, hostileText, tempDir } from "@wharf/test-kit";
import fc from "fast-check";
import ssh2, { type ClientChannel } from "ssh2";
import { storeBackends } from "./backends.ts";
import { startGateway } from "./harness.ts";
import { pinnedHostKey } from "./sftp-clients.ts";
import {
  encodeBody,
  type Field,
  framed,
  framing,
  initPacket,
  maxPacketBytes,
  ReplyReader,
  Request,
  u32,
} from "./sftp-packets.ts";

/** How a packet is broken on its way out, after it was encoded whole. */
export type Mutation =
  /** the length field says this instead (0, 4 GiB - 1, over the limit, a few bytes off) */
  | { readonly length: number }
  /** the body ends after this many bytes, the length telling the truth */
  | { readonly truncate: number }
  /** another packet type (unknown, a response type, INIT again) */
  | { readonly type: number }
  /** a string field's length says this instead (the first string in the packet) */
  | { readonly stringLength: number }
  /** raw bytes instead of the packet */
  | { readonly garbage: Uint8Array };

export interface Frame {
  readonly type: number;
  readonly fields: readonly Field[];
  readonly mutation?: Mutation;
}

/** One SFTP channel: the opening INIT (or not), packets, then wait for the answers or hang up at once. */
export interface SftpScript {
  readonly init: "v3" | "v6" | "missing" | "twice";
  readonly frames: readonly Frame[];
  readonly finish: "answers" | "hang-up";
}

const text = (s: string): Field => ({ bytes: Buffer.from(s, "utf8") });
const pathNames = [
  "small.txt",
  "big.bin",
  "dir",
  "dir/inner.txt",
  "dir/",
  "small.txt/",
  "new.bin",
  "new-dir",
  "nope",
  "",
  ".",
  "..",
  "/",
  "//",
  "/../../..",
  "dir/../../small.txt",
  "a\\b",
  "a\u0000b",
  "é€💥",
  "x".repeat(255),
  `${"d/".repeat(600)}f`,
];
const path: fc.Arbitrary<Field> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...pathNames).map(text) },
  hostileText.map(text),
  // not UTF-8
  fc.uint8Array({ maxLength: 12 }).map((bytes) => ({ bytes })),
);
/** The gateway numbers handles from 1 per channel, 4 bytes each: small numbers hit open ones. */
const handle: fc.Arbitrary<Field> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 4 }).map((n) => ({ bytes: u32(n) })) },
  fc.constantFrom(0xffffffff, 0x80000000).map((n) => ({ bytes: u32(n) })),
  fc.uint8Array({ maxLength: 8 }).map((bytes) => ({ bytes })),
  // past ssh2's 256-byte handle limit, and past the packet limit
  fc.constantFrom(257, 4096, maxPacketBytes).map((n) => ({ bytes: new Uint8Array(n).fill(1) })),
);
const offset: fc.Arbitrary<Field> = fc
  .oneof(
    fc.constantFrom(0n, 1n, 5n, 32768n, 2n ** 20n, 2n ** 21n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n),
    fc.bigInt({ min: 0n, max: 2n ** 22n }),
  )
  .map((u64) => ({ u64 }));
const uint: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, 1, 32768, 131072, 262144, 0x7fffffff, 0xffffffff),
  fc.nat(),
);
const attrs: fc.Arbitrary<Field> = fc
  .record({
    flags: fc.oneof(fc.constantFrom(0, 0x1, 0x4, 0x8, 0xf, 0x80000000), fc.nat({ max: 0xffffffff })),
    values: fc.array(uint, { maxLength: 6 }),
  })
  .map((a) => ({ attrs: a }));
/** OPEN's pflags: READ 1, WRITE 2, APPEND 4, CREAT 8, TRUNC 16, EXCL 32, and unknown bits. */
const pflags: fc.Arbitrary<Field> = fc
  .oneof(fc.constantFrom(1, 2 | 8 | 16, 2 | 4, 2 | 8 | 32, 3, 26, 0), fc.nat({ max: 0xffffffff }))
  .map((u32) => ({ u32 }));
const data: fc.Arbitrary<Field> = fc
  .oneof(
    { weight: 4, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    fc.constantFrom(32768, 40000, 200_000).map((n) => new Uint8Array(n).fill(7)),
  )
  .map((bytes) => ({ bytes }));
const extensionName = fc.oneof(
  fc.constantFrom(
    "posix-rename@openssh.com",
    "statvfs@openssh.com",
    "hardlink@openssh.com",
    "fsync@openssh.com",
  ),
  hostileText,
);

const request = (type: number, ...fields: fc.Arbitrary<Field>[]) =>
  fc.tuple(...fields).map((f) => ({ type, fields: f as Field[] }));
const wellFormed: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 3, arbitrary: request(Request.OPEN, path, pflags, attrs) },
  request(Request.CLOSE, handle),
  {
    weight: 3,
    arbitrary: request(
      Request.READ,
      handle,
      offset,
      uint.map((u32) => ({ u32 })),
    ),
  },
  { weight: 3, arbitrary: request(Request.WRITE, handle, offset, data) },
  request(Request.LSTAT, path),
  request(Request.FSTAT, handle),
  request(Request.SETSTAT, path, attrs),
  request(Request.FSETSTAT, handle, attrs),
  request(Request.OPENDIR, path),
  request(Request.READDIR, handle),
  request(Request.REMOVE, path),
  request(Request.MKDIR, path, attrs),
  request(Request.RMDIR, path),
  request(Request.REALPATH, path),
  request(Request.STAT, path),
  request(Request.RENAME, path, path),
  request(Request.READLINK, path),
  request(Request.SYMLINK, path, path),
  fc
    .tuple(
      extensionName.map(text),
      fc.oneof(
        fc.tuple(path, path).map(([a, b]) => Buffer.concat([framedField(a), framedField(b)])),
        fc.uint8Array({ maxLength: 32 }),
      ),
    )
    .map(([name, rest]) => ({ type: Request.EXTENDED, fields: [name, { bytes: rest }] as Field[] })),
);
/** A string's wire form (EXTENDED's payload is raw bytes after the name). */
function framedField(field: Field): Buffer {
  return "bytes" in field ? Buffer.concat([u32(field.bytes.length), field.bytes]) : Buffer.alloc(0);
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc
    .oneof(fc.constantFrom(0, 1, 4, 0xffffffff, 0x80000000, maxPacketBytes + 1), fc.nat({ max: 70_000 }))
    .map((length) => ({ length })),
  fc.nat({ max: 40 }).map((truncate) => ({ truncate })),
  fc
    .oneof(fc.constantFrom(0, 1, 2, 21, 101, 102, 103, 199, 201, 255), fc.integer({ min: 0, max: 255 }))
    .map((type) => ({ type })),
  fc.constantFrom(0xffffffff, 0x7fffffff, 1 << 20, 300).map((stringLength) => ({ stringLength })),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((garbage) => ({ garbage })),
);
const frame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 3, arbitrary: wellFormed },
  fc.tuple(wellFormed, mutation).map(([f, m]) => ({ ...f, mutation: m })),
);

export const sftpInputs: fc.Arbitrary<SftpScript> = fc.record({
  init: fc.oneof(
    { weight: 12, arbitrary: fc.constant("v3" as const) },
    fc.constantFrom("v6", "missing", "twice"),
  ),
  frames: fc.array(frame, { minLength: 1, maxLength: 6 }),
  finish: fc.oneof(
    { weight: 4, arbitrary: fc.constant("answers" as const) },
    fc.constant("hang-up" as const),
  ),
});

/** The bytes of one frame with request id `id`, broken as its mutation says. */
function encodeFrame(f: Frame, id: number): Buffer {
  const m = f.mutation;
  if (m && "garbage" in m) return Buffer.from(m.garbage);
  const body = encodeBody(m && "type" in m ? m.type : f.type, id, f.fields);
  if (m && "stringLength" in m) {
    // the first field after the id is a string in every request but READ/WRITE's offset order
    const at = 5;
    if (body.length >= at + 4) body.writeUInt32BE(m.stringLength >>> 0, at);
  }
  if (m && "truncate" in m) return framed(body.subarray(0, Math.min(body.length, m.truncate)));
  const whole = framed(body);
  if (m && "length" in m) whole.writeUInt32BE(m.length >>> 0, 0);
  return whole;
}

/** Requests whose first field is a handle, which SFTP v3 caps at 256 bytes. */
const takesHandle = new Set<number>([
  Request.CLOSE,
  Request.READ,
  Request.WRITE,
  Request.FSTAT,
  Request.FSETSTAT,
  Request.READDIR,
]);

/** Unbroken, with a handle of at most 256 bytes, and fits the packet limit: it must be answered. */
function followsTheSpec(f: Frame): boolean {
  const first = f.fields[0];
  const longHandle =
    takesHandle.has(f.type) && first !== undefined && "bytes" in first && first.bytes.length > 256;
  return f.mutation === undefined && !longHandle && encodeBody(f.type, 0, f.fields).length <= maxPacketBytes;
}

const sentinelId = 0x7eadbeef;
const answerTimeoutMs = 10_000;

/** Resolves when `done()` holds (checked whenever the channel says something) or it closes. */
function until(channel: ClientChannel, done: () => boolean): Promise<"done" | "closed"> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no answer and no close within ${answerTimeoutMs} ms`)),
      answerTimeoutMs,
    );
    const finish = (how: "done" | "closed") => {
      clearTimeout(timer);
      channel.off("data", onData);
      channel.off("close", onClose);
      resolve(how);
    };
    const onData = () => {
      if (done()) finish("done");
    };
    const onClose = () => finish("closed");
    channel.on("data", onData);
    channel.once("close", onClose);
    if (done()) finish("done");
  });
}

/**
 * Sends one script on a fresh `sftp` subsystem channel of `client` and checks the answers: every
 * packet the server sends is well-formed SFTP v3, each request id is answered at most once, none
 * with the gateway's own failure (a thrown bug: "Local error in processing."), and a script whose
 * packets are all well-formed is answered in full without the channel being closed. A malformed one
 * may get BAD_MESSAGE or FAILURE, or the channel closed, but never the whole SSH connection.
 */
async function runScript(client: ssh2.Client, script: SftpScript): Promise<void> {
  const channel = await new Promise<ClientChannel>((resolve, reject) =>
    client.subsys("sftp", (error, stream) => (error ? reject(error) : resolve(stream))),
  );
  const reader = new ReplyReader();
  let protocolError: unknown;
  channel.on("data", (chunk: Buffer) => {
    try {
      reader.push(chunk);
    } catch (error) {
      protocolError ??= error;
    }
  });
  channel.stderr.resume();
  const closed = once(channel, "close");
  try {
    const parts: Buffer[] = [];
    if (script.init !== "missing") parts.push(initPacket(script.init === "v6" ? 6 : 3));
    if (script.init === "twice") parts.push(initPacket(3));
    const ids: number[] = [];
    script.frames.forEach((f, i) => {
      ids.push(i + 1);
      parts.push(encodeFrame(f, i + 1));
    });
    let stream = Buffer.concat(parts);
    const { fatal, padding } = framing(stream);
    stream = Buffer.concat([stream, Buffer.alloc(padding)]);
    if (!fatal)
      stream = Buffer.concat([stream, framed(encodeBody(Request.REALPATH, sentinelId, [text(".")]))]);
    channel.write(stream);
    const clean = (script.init === "v3" || script.init === "v6") && script.frames.every(followsTheSpec);
    if (script.finish === "hang-up") {
      channel.end();
    } else {
      const answered = () => {
        const seen = new Set(reader.replies.map((r) => r.id));
        return seen.has(sentinelId) && (!clean || ids.every((id) => seen.has(id)));
      };
      const how = await until(channel, () => protocolError !== undefined || answered());
      if (how === "closed" && clean)
        throw new Error(
          `the server closed the channel on well-formed requests (answered ${reader.replies.length})`,
        );
      channel.end();
    }
    await Promise.race([
      closed,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error("the channel never closed")), answerTimeoutMs),
      ),
    ]);
    if (protocolError) throw protocolError;
    const counts = new Map<number, number>();
    for (const reply of reader.replies) {
      counts.set(reply.id, (counts.get(reply.id) ?? 0) + 1);
      if (reply.message === "Local error in processing.")
        throw new Error(`request ${reply.id} failed inside the gateway (status ${reply.status})`);
    }
    if (clean)
      for (const [id, count] of counts)
        if (count > 1 || (id !== sentinelId && !ids.includes(id)))
          throw new Error(`request id ${id} answered ${count} times (sent ${ids.join(",")})`);
  } finally {
    channel.destroy();
  }
}

function connect(port: number, hostKey: Buffer): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client
      .once("ready", () => {
        client.setNoDelay(true);
        resolve(client);
      })
      .once("error", reject);
    client.connect({
      host: "127.0.0.1",
      port,
      username: "u",
      password: "p",
      hostVerifier: (key: Buffer) => key.equals(hostKey),
      readyTimeout: answerTimeoutMs,
    });
  });
}

/** The body of `name` through a fresh login's SFTP session, after a STAT of it. */
async function fetchOverSftp(
  port: number,
  hostKey: Buffer,
  name: string,
): Promise<{ size: number; body: Buffer }> {
  const client = await connect(port, hostKey);
  try {
    const sftp = await new Promise<ssh2.SFTPWrapper>((resolve, reject) =>
      client.sftp((error, s) => (error ? reject(error) : resolve(s))),
    );
    const stats = await new Promise<ssh2.Stats>((resolve, reject) =>
      sftp.stat(name, (error, s) => (error ? reject(error) : resolve(s))),
    );
    const body = await new Promise<Buffer>((resolve, reject) =>
      sftp.readFile(name, (error, b) => (error ? reject(error) : resolve(b))),
    );
    return { size: stats.size, body };
  } finally {
    client.end();
  }
}

/**
 * The gateway in this process with SFTP on the fs driver in a temp folder, over real TCP and SSH
 * (ssh2's client, password login). Each input is one `sftp` subsystem channel on a shared SSH
 * connection carrying hand-built packets; the good request is a fresh login, a STAT and a read of a
 * file no input names. A connection the server dropped fails the input that was on it.
 */
export async function sftpSurface(): Promise<FuzzSurface<SftpScript> & AsyncDisposable> {
  const store = await storeBackends[0]!.open();
  const keys = await tempDir("sftp-fuzz-keys-");
  const pinned = await pinnedHostKey(keys.path);
  const parsed = ssh2.utils.parseKey(pinned.key.pem);
  if (parsed instanceof Error) throw parsed;
  const hostKey = parsed.getPublicSSH();
  const known = "small and known\n";
  await store.driver.put("big.bin", Buffer.alloc(2 << 20, "0123456789abcdef"));
  await store.driver.put("small.txt", Buffer.from("small\n"));
  await store.driver.put("keep/known.txt", Buffer.from(known));
  await store.driver.put("dir/inner.txt", Buffer.from("inner"));
  const gateway = await startGateway({
    driver: store.driver,
    hostKeys: [pinned.key],
    env: {
      SFTP_PORT: "0",
      SFTP_HOST_KEY_FILE: pinned.file,
      FTP_LOGIN_MAX_FAILURES: "1000000000",
      FTP_MAX_CONNECTIONS: "1000",
      FTP_MAX_CONNECTIONS_PER_IP: "1000",
    },
  });
  const port = gateway.sftpPort!;
  let client: ssh2.Client | undefined;
  let dropped = false;
  const session = async () => {
    if (client && !dropped) return client;
    const fresh = await connect(port, hostKey);
    dropped = false;
    fresh.on("error", () => {});
    fresh.once("close", () => {
      dropped = true;
    });
    client = fresh;
    return fresh;
  };
  const check = async (script: SftpScript) => {
    await runScript(await session(), script);
    await nextTurn();
    if (dropped) throw new Error("the server dropped the whole SSH connection");
  };
  const good = async () => {
    const { size, body } = await fetchOverSftp(port, hostKey, "keep/known.txt");
    if (size !== known.length || body.toString() !== known)
      throw new Error(
        `a good STAT + read answered size ${size}, ${JSON.stringify(body.toString().slice(0, 40))}`,
      );
    const stored = (await readAll((await store.driver.get("keep/known.txt")).body)).toString();
    if (stored !== known) throw new Error("an input changed a file no input names");
  };
  return {
    name: "fuzz-sftp",
    inputs: sftpInputs,
    check,
    good,
    async [Symbol.asyncDispose]() {
      client?.end();
      await gateway[Symbol.asyncDispose]();
      await keys[Symbol.asyncDispose]();
      await store.dispose();
    },
  };
}
