import { isWharfError, WharfError } from "@wharf/errors";
import type { Logger } from "pino";
import type { Attributes, FileEntry, SFTPWrapper } from "ssh2";
import type { Principal } from "../core/auth.ts";
import type { Core } from "../core/core.ts";
import { userError } from "../core/errors.ts";
import { type Entry, listLine } from "../core/listing.ts";
import { resolvePath } from "../core/paths.ts";
import { createRangeReader } from "./range-reader.ts";
import { Status, statusFor } from "./status.ts";
import { createUploadWriter, type UploadWriter } from "./upload-writer.ts";

export interface SftpFilesOptions {
  readonly core: Core;
  /** Bytes of out-of-order WRITEs one upload may hold while waiting for the bytes before them. */
  readonly reorderWindowBytes: number;
}

type Handle =
  | { readonly kind: "read"; readonly entry: Entry; readonly reader: ReturnType<typeof createRangeReader> }
  | { readonly kind: "write"; readonly writer: UploadWriter }
  | { readonly kind: "dir"; readonly entries: AsyncIterator<Entry>; done: boolean };

const open = { READ: 1, WRITE: 2, APPEND: 4, CREAT: 8, TRUNC: 16, EXCL: 32 } as const;
const maxHandles = 64;
const maxReadBytes = 128 * 1024;
const namesPerReaddir = 256;

/**
 * Serves one SFTP v3 channel for a logged-in user over the same virtual filesystem as FTP: paths
 * resolve as FTP's (`/` is the user's home, `..` stops there), read-only users may not change
 * anything, uploads become visible only when CLOSE completes a whole in-order stream.
 */
export function serveSftp(
  sftp: SFTPWrapper,
  principal: Principal,
  options: SftpFilesOptions & { readonly log: Logger; readonly onRequest?: () => void },
) {
  const { core } = options;
  const { metrics } = core;
  const vfs = core.vfsFor(principal);
  const abort = new AbortController();
  const handles = new Map<number, Handle>();
  let nextId = 1;
  const log = options.log;
  /** File handles open or closing: a drain waits for them. */
  let transfers = 0;
  let draining = false;
  let drained: (() => void) | undefined;
  const transferDone = (direction: "upload" | "download", outcome: string) => {
    metrics.transfers.inc({ protocol: "sftp", direction, outcome });
    transfers--;
    // After the reply to the CLOSE is on its way.
    if (transfers === 0 && drained) setImmediate(drained);
  };

  const reply = (reqid: number, work: () => Promise<void>) => {
    options.onRequest?.();
    // a throw before the first await is answered too (a bad READDIR handle once ended the connection)
    new Promise<void>((resolve) => resolve(work())).catch((error: unknown) => {
      const { status, text } = statusFor(error);
      if (status === Status.FAILURE && !(error instanceof WharfError && error.details?.reply))
        log.warn({ err: error }, "sftp request failed");
      if (status !== Status.EOF)
        metrics.errors.inc({ protocol: "sftp", code: isWharfError(error) ? error.code : "INTERNAL" });
      if (!abort.signal.aborted) sftp.status(reqid, status, text);
    });
  };
  const ok = (reqid: number) => sftp.status(reqid, Status.OK);
  /** Runs `work` and answers OK. */
  const done = (reqid: number, work: () => Promise<unknown>) =>
    reply(reqid, async () => {
      await work();
      ok(reqid);
    });
  /** A change to the store: refused for read-only users. */
  const change = (reqid: number, work: () => Promise<unknown>) =>
    done(reqid, async () => {
      writable();
      await work();
    });
  // ssh2 hands over `undefined` for a string that runs past the end of its packet
  const path = (raw: string | undefined) => {
    if (typeof raw !== "string") throw userError("INVALID_ARGUMENT", "Malformed request.");
    return resolvePath("/", raw);
  };
  const writable = () => {
    if (principal.access !== "rw") throw userError("PERMISSION_DENIED", "Read-only account.");
  };
  const handleOf = (raw: Buffer): Handle => {
    const handle = raw?.length === 4 ? handles.get(raw.readUInt32BE(0)) : undefined;
    if (!handle) throw userError("INVALID_ARGUMENT", "Invalid handle.");
    return handle;
  };
  const addHandle = (reqid: number, handle: Handle) => {
    if (handles.size >= maxHandles) throw userError("QUOTA_EXCEEDED", "Too many open files.");
    const id = nextId++;
    handles.set(id, handle);
    if (handle.kind !== "dir") transfers++;
    const raw = Buffer.alloc(4);
    raw.writeUInt32BE(id);
    sftp.handle(reqid, raw);
  };
  const attrsOf = (entry: Entry): Attributes => {
    const mtime = Math.floor(entry.modified.getTime() / 1000);
    const rw = principal.access === "rw";
    const mode = entry.type === "dir" ? 0o40000 | (rw ? 0o755 : 0o555) : 0o100000 | (rw ? 0o644 : 0o444);
    return { mode, uid: 0, gid: 0, size: entry.size, atime: mtime, mtime };
  };
  const fileEntry = (entry: Entry): FileEntry => ({
    filename: entry.name,
    longname: listLine(entry, core.now()),
    attrs: attrsOf(entry),
  });
  const existing = async (p: string) => {
    const entry = await vfs.stat(p);
    if (!entry) throw userError("NOT_FOUND", "No such file or directory.");
    return entry;
  };

  async function openFile(reqid: number, filename: string, flags: number) {
    if (draining) throw userError("UNAVAILABLE", "The server is shutting down; try again shortly.");
    const target = path(filename);
    if (!(flags & (open.WRITE | open.APPEND | open.CREAT | open.TRUNC))) {
      const entry = await existing(target);
      if (entry.type !== "file") throw userError("NOT_FOUND", "Not a regular file.");
      const reader = createRangeReader((offset) => vfs.read(target, offset, abort.signal), entry.size);
      return addHandle(reqid, { kind: "read", entry, reader });
    }
    writable();
    if (flags & open.READ)
      throw userError("UNSUPPORTED", "Opening a file for reading and writing is not supported.");
    const entry = await vfs.checkWritable(target);
    if (entry && flags & open.EXCL) throw userError("ALREADY_EXISTS", "File exists.");
    if (!entry && !(flags & open.CREAT)) throw userError("NOT_FOUND", "No such file.");
    const truncate = !entry || ((flags & open.TRUNC) !== 0 && !(flags & open.APPEND));
    // Without TRUNC a client may continue the file at its end (OpenSSH `reput` opens with APPEND).
    const writer = createUploadWriter({
      store: (body, base) => vfs.write(target, body, base, abort.signal),
      windowBytes: options.reorderWindowBytes,
      ...(truncate ? {} : { resumeFrom: entry.size, resumeOnly: (flags & open.APPEND) !== 0 }),
      createIfEmpty: truncate,
    });
    addHandle(reqid, { kind: "write", writer });
  }

  async function readDir(reqid: number, handle: Handle) {
    if (handle.kind !== "dir") throw userError("INVALID_ARGUMENT", "Not a directory handle.");
    const names: FileEntry[] = [];
    while (!handle.done && names.length < namesPerReaddir) {
      const step = await handle.entries.next();
      if (step.done) handle.done = true;
      else names.push(fileEntry(step.value));
    }
    if (names.length === 0) sftp.status(reqid, Status.EOF);
    else sftp.name(reqid, names);
  }

  async function rename(reqid: number, from: string, to: string, replace: boolean) {
    writable();
    const [source, target] = [path(from), path(to)];
    if (!replace && source !== target && (await vfs.stat(target)))
      throw userError("ALREADY_EXISTS", "Target exists.");
    await vfs.rename(source, target);
    ok(reqid);
  }

  /** Drops a handle the client did not close (session gone): an unfinished upload stores nothing. */
  async function release(handle: Handle): Promise<void> {
    if (handle.kind === "dir") return void handle.entries.return?.(undefined).catch(() => {});
    if (handle.kind === "read") handle.reader.close();
    else await handle.writer.abort();
    transferDone(handle.kind === "read" ? "download" : "upload", "broken");
  }

  /** CLOSE: a write handle's upload completes here (or fails, and nothing is stored). */
  async function closeHandle(handle: Handle): Promise<void> {
    if (handle.kind === "dir") return void handle.entries.return?.(undefined).catch(() => {});
    if (handle.kind === "read") {
      handle.reader.close();
      return transferDone("download", "ok");
    }
    let outcome = "failed";
    try {
      await handle.writer.close();
      outcome = "ok";
    } finally {
      transferDone("upload", outcome);
    }
  }

  sftp
    .on("OPEN", (reqid, filename, flags) => reply(reqid, () => openFile(reqid, filename, flags)))
    .on("READ", (reqid, raw, offset, length) =>
      reply(reqid, async () => {
        const handle = handleOf(raw);
        if (handle.kind !== "read") throw userError("PERMISSION_DENIED", "File not open for reading.");
        const data = await handle.reader.read(offset, Math.min(length, maxReadBytes));
        if (data) metrics.bytes.inc({ protocol: "sftp", direction: "download" }, data.length);
        if (data) sftp.data(reqid, data);
        else sftp.status(reqid, Status.EOF);
      }),
    )
    .on("WRITE", (reqid, raw, offset, data) =>
      reply(reqid, async () => {
        const handle = handleOf(raw);
        if (handle.kind !== "write") throw userError("PERMISSION_DENIED", "File not open for writing.");
        await handle.writer.write(offset, data);
        metrics.bytes.inc({ protocol: "sftp", direction: "upload" }, data.length);
        ok(reqid);
      }),
    )
    .on("CLOSE", (reqid, raw) =>
      reply(reqid, async () => {
        const handle = handleOf(raw);
        handles.delete(raw.readUInt32BE(0));
        await closeHandle(handle);
        ok(reqid);
      }),
    )
    .on("FSTAT", (reqid, raw) =>
      reply(reqid, async () => {
        const handle = handleOf(raw);
        if (handle.kind === "read") sftp.attrs(reqid, attrsOf(handle.entry));
        else if (handle.kind === "write")
          sftp.attrs(reqid, { mode: 0o100644, size: handle.writer.size() } as Attributes);
        else sftp.attrs(reqid, { mode: 0o40755 } as Attributes);
      }),
    )
    .on("STAT", (reqid, raw) =>
      reply(reqid, async () => sftp.attrs(reqid, attrsOf(await existing(path(raw))))),
    )
    .on("LSTAT", (reqid, raw) =>
      reply(reqid, async () => sftp.attrs(reqid, attrsOf(await existing(path(raw))))),
    )
    // Times and modes are accepted and ignored, as OpenSSH's sftp-server does where it cannot keep them.
    .on("SETSTAT", (reqid, raw) => done(reqid, () => existing(path(raw))))
    .on("FSETSTAT", (reqid, raw) => done(reqid, async () => handleOf(raw)))
    .on("OPENDIR", (reqid, raw) =>
      reply(reqid, async () => {
        const dir = path(raw);
        const entry = await existing(dir);
        if (entry.type !== "dir") throw userError("NOT_FOUND", "Not a directory.");
        addHandle(reqid, { kind: "dir", entries: vfs.list(dir)[Symbol.asyncIterator](), done: false });
      }),
    )
    .on("READDIR", (reqid, raw) => reply(reqid, () => readDir(reqid, handleOf(raw))))
    .on("REMOVE", (reqid, raw) => change(reqid, () => vfs.remove(path(raw))))
    .on("RMDIR", (reqid, raw) => change(reqid, () => vfs.rmdir(path(raw))))
    .on("MKDIR", (reqid, raw) => change(reqid, () => vfs.mkdir(path(raw))))
    .on("RENAME", (reqid, from, to) => reply(reqid, () => rename(reqid, from, to, false)))
    .on("REALPATH", (reqid, raw) =>
      reply(reqid, async () => {
        const resolved = path(raw);
        sftp.name(reqid, [{ filename: resolved, longname: resolved, attrs: {} as Attributes }]);
      }),
    )
    .on("READLINK", (reqid) => reply(reqid, noLinks))
    .on("SYMLINK", (reqid) => reply(reqid, noLinks))
    .on("EXTENDED", (reqid, name, data) =>
      reply(reqid, async () => {
        if (name !== "posix-rename@openssh.com")
          throw userError("UNSUPPORTED", `Extension ${name} is not supported.`);
        const [from, to] = twoStrings(data);
        await rename(reqid, from, to, true);
      }),
    );

  return {
    /**
     * For a shutdown: refuses new OPENs and resolves once no file is open (uploads in flight
     * completed or failed at their CLOSE). Directory handles do not hold it up.
     */
    drain(): Promise<void> {
      draining = true;
      if (transfers === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        drained = resolve;
      });
    },
    /** Drops every open handle: unfinished uploads are aborted, nothing partial is stored. */
    async close(): Promise<void> {
      abort.abort(new WharfError("CANCELLED", "session closed"));
      const open = [...handles.values()];
      handles.clear();
      await Promise.all(open.map(release));
    },
  };
}

const noLinks = async () => {
  throw userError("UNSUPPORTED", "No symbolic links here.");
};

/** The two SSH strings (uint32 length + bytes) of a posix-rename request. */
function twoStrings(data: Buffer | undefined): [string, string] {
  if (!data) throw userError("INVALID_ARGUMENT", "Malformed request.");
  const first = data.length >= 4 ? data.readUInt32BE(0) : -1;
  const secondAt = 4 + first;
  if (first < 0 || data.length < secondAt + 4) throw userError("INVALID_ARGUMENT", "Malformed request.");
  const second = data.readUInt32BE(secondAt);
  if (data.length < secondAt + 4 + second) throw userError("INVALID_ARGUMENT", "Malformed request.");
  return [data.toString("utf8", 4, secondAt), data.toString("utf8", secondAt + 4, secondAt + 4 + second)];
}
