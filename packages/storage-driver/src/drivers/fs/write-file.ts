import { closeSync, constants, fdatasync, fstatSync, fsync, openSync, type Stats, writev } from "node:fs";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { BufferPool } from "../../buffer-pool.ts";
import type { FillableBody } from "../../types.ts";

const writevFd = promisify(writev);
export const fdatasyncFd = promisify(fdatasync);
export const fsyncFd = promisify(fsync);

/** Bytes gathered before one `writev` (a network body arrives in 16-64 KiB chunks). */
const BATCH_BYTES = 1 << 20;
/**
 * The size of each fill buffer. Two take turns, one filled from the socket on the main thread while
 * the kernel copies the other into the page cache on a pool thread, so they must fit in the CPU's
 * caches: with 256 KiB a durable 1 GiB FTP upload ran at 780-950 MB/s on a 2-core EPYC VM, with
 * 1 MiB (2 MiB in turn, every byte fetched from memory again) at 300-360 MB/s, with 64 KiB at
 * 370-500 (four times the thread-pool trips). Gathered chunks are fresh memory either way, and
 * for them 1 MiB batches (fewer trips) did better.
 */
const FILL_BYTES = 256 << 10;
/** Unsynced bytes after which a background `fdatasync` starts, so the final fsync finds little left. */
const SYNC_EVERY = 32 << 20;
/** Fill buffers kept for later writes (reused memory needs no page faults); more are made as needed. */
const SPARE_FILL_BUFFERS = 8;

export interface WriteFileOptions {
  /** fsync before the file is closed. */
  readonly flush: boolean;
  /**
   * The file will be fsynced before it is used (here or by the caller): flush written data to the
   * disk in the background while the body still arrives, so that fsync waits for the last few MiB,
   * not the whole file.
   */
  readonly durable: boolean;
  /**
   * The body's size, when known. A flushed body of at most one batch (`writesAtOnce`) is written
   * through a descriptor opened with O_DSYNC: its one write reaches the disk with no fsync trip after it.
   */
  readonly size?: number;
}

/** Whether a body of `size` bytes is written in one write, so O_DSYNC can replace the fsync after it. */
export function writesAtOnce(size: number | undefined): boolean {
  return size !== undefined && size <= BATCH_BYTES;
}

/** What the written file is: its stats (inode, times), read before it was closed. */
export interface WrittenFile {
  readonly stats: Stats;
}

/** What the written file is, and the bytes written. */
export interface WrittenBody extends WrittenFile {
  readonly size: number;
}

export interface WriteBodyOptions extends WriteFileOptions {
  /** Sees each chunk before it is written (hashing, a size limit); a throw there fails the write. */
  readonly onData?: (chunk: Buffer) => void;
  readonly signal?: AbortSignal;
}

/**
 * Writes `body` to a new file at `path` (created exclusively), gathering chunks into batches of
 * about 1 MiB so each trip through libuv's thread pool moves a batch, not a 64 KiB socket read: every
 * trip costs two thread wake-ups, and on a 2-core VM 16,000 trips per GiB were most of an upload's
 * CPU. One batch is written while the next is gathered, and the body is paused while a batch waits
 * for the disk, so memory stays at about two batches. A body held in memory is written at once.
 *
 * The stream is read through its own events, not `pipeline` or an async iterator: their abort
 * controllers, listeners and promise hops cost more CPU than the whole durable write of a 64 KiB
 * body (0.3 of 0.7 ms on a 2-core VM). Rejects with the stream's error, or with an
 * `ERR_STREAM_PREMATURE_CLOSE` error when it closes before its end.
 */
export async function writeNewFile(
  path: string,
  body: Readable | Buffer,
  options: WriteBodyOptions,
): Promise<WrittenBody> {
  let size = 0;
  const known = Buffer.isBuffer(body) ? { ...options, size: body.length } : options;
  const written = await withWriter(path, known, async (writer) => {
    if (Buffer.isBuffer(body)) {
      options.onData?.(body);
      size = body.length;
      if (size > 0) await writer.submit([body], size);
      return;
    }
    await readBatches(body, options, async (batch, bytes) => {
      size += bytes;
      await writer.submit(batch, bytes);
    });
  });
  return { ...written, size };
}

/**
 * Feeds `body` to `write` in batches of about `BATCH_BYTES`, pausing the body while a batch waits
 * (`write` resolves once it may be given the next one). Resolves after the last batch was handed over.
 */
export function readBatches(
  body: Readable,
  options: Pick<WriteBodyOptions, "onData" | "signal">,
  write: (batch: Buffer[], bytes: number) => Promise<void>,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const { onData, signal } = options;
    let batch: Buffer[] = [];
    let bytes = 0;
    let settled = false;
    let handing: Promise<void> = Promise.resolve();
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      body.off("data", data).off("end", end).off("error", settle).off("close", close);
      // The body's owner may still destroy it with an error (a client gone after an abort): that
      // must not become an uncaught exception once nobody reads it.
      body.on("error", ignore);
      signal?.removeEventListener("abort", aborted);
      if (error === undefined) resolve();
      else reject(error);
    };
    const handOver = () => {
      const full = batch;
      const length = bytes;
      batch = [];
      bytes = 0;
      handing = handing.then(() => write(full, length));
      return handing;
    };
    const data = (chunk: Buffer) => {
      if (settled) return;
      try {
        onData?.(chunk);
      } catch (error) {
        settle(error);
        return;
      }
      batch.push(chunk);
      bytes += chunk.length;
      if (bytes < BATCH_BYTES) return;
      body.pause();
      handOver().then(() => {
        if (!settled) body.resume();
      }, settle);
    };
    const end = () => {
      (bytes > 0 ? handOver() : handing).then(() => settle(), settle);
    };
    const close = () => {
      if (!body.readableEnded)
        settle(Object.assign(new Error("Premature close"), { code: "ERR_STREAM_PREMATURE_CLOSE" }));
    };
    const aborted = () => settle(signal?.reason);
    if (signal?.aborted) return aborted();
    if (body.errored) return settle(body.errored);
    if (body.readableEnded) return end();
    if (body.destroyed) return close();
    signal?.addEventListener("abort", aborted, { once: true });
    body.on("data", data).once("end", end).once("error", settle).once("close", close);
    body.resume();
  });
}

/**
 * `writeNewFile` for a body that fills buffers itself: two 256 KiB buffers take turns, one being
 * filled while the other is written, so the bytes go from the socket to the page cache through
 * memory that is reused (no buffer per read, no page faults for fresh memory). `onData` sees each
 * filled batch before it is written (hashing, a size limit); a throw there fails the write.
 * Returns the bytes written with the file's stamp.
 */
export async function writeNewFileFilled(
  path: string,
  body: FillableBody,
  options: WriteBodyOptions,
): Promise<WrittenBody> {
  const buffers = [fillBuffers.take(), fillBuffers.take()];
  let total = 0;
  let ended = false;
  let written: WrittenFile;
  try {
    written = await withWriter(path, options, async (writer) => {
      for (let turn = 0; ; turn ^= 1) {
        const buffer = buffers[turn]!;
        // The buffer's previous write was the one before the last, awaited by the last submit.
        const filled = await abortable(body.fill(buffer, 0), options.signal);
        if (filled > 0) {
          const batch = buffer.subarray(0, filled);
          options.onData?.(batch);
          total += filled;
          await writer.submit([batch], filled);
        }
        if (filled < buffer.length) {
          ended = true;
          return;
        }
      }
    });
  } finally {
    // Reused only after a clean end: a failed or aborted body may still have a fill pending, and its
    // socket could write into the buffer until the caller destroys it.
    if (ended) for (const buffer of buffers) fillBuffers.give(buffer);
  }
  return { ...written, size: total };
}

interface SequentialWriter {
  /** Starts writing `buffers` after the previous write finished; they must stay unchanged until the next submit returns. */
  submit(buffers: Buffer[], bytes: number): Promise<void>;
}

/**
 * Opens `path` exclusively, runs `produce` with a writer for it, waits for its writes, then closes.
 * Opening, the final `fstat` and closing a new file are metadata calls of microseconds, made
 * synchronously; only writes and fsyncs go through the thread pool (a 64 KiB file: one trip).
 */
async function withWriter(
  path: string,
  options: WriteFileOptions,
  produce: (writer: SequentialWriter) => Promise<void>,
): Promise<WrittenFile> {
  const dsync = options.flush && writesAtOnce(options.size);
  const fd = openSync(path, dsync ? NEW_FILE | constants.O_DSYNC : NEW_FILE);
  let writing: Promise<void> | undefined;
  let syncing: Promise<void> | undefined;
  let position = 0;
  let synced = 0;
  const writer: SequentialWriter = {
    async submit(buffers, bytes) {
      // One write at a time: the kernel serialises a file's writes anyway.
      if (writing) await writing;
      const at = position;
      position += bytes;
      const end = position;
      writing = writeAll(fd, buffers, at).then(() => {
        if (options.durable && !syncing && end - synced >= SYNC_EVERY) {
          syncing = fdatasyncFd(fd).then(
            () => {
              synced = end;
              syncing = undefined;
            },
            () => {
              // The final fsync reports a disk error; this early one only saves time.
              syncing = undefined;
            },
          );
        }
      });
      // Observed by the next submit or the final await; never unhandled meanwhile.
      writing.catch(() => {});
    },
  };
  try {
    await produce(writer);
    await writing;
    await syncing;
    if (options.flush && !dsync) await fsyncFd(fd);
    return { stats: fstatSync(fd) };
  } finally {
    // A failed body still leaves a write or sync in flight on this descriptor: close after them.
    await writing?.catch(() => {});
    await syncing;
    closeSync(fd);
  }
}

/** `wx`: write only, created here, never an existing file. */
const NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;

const fillBuffers = new BufferPool(FILL_BYTES, SPARE_FILL_BUFFERS);

function ignore(): void {}

/** `promise`, or a rejection with the signal's reason once it aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** `writev` until every byte is written (a regular file takes all of it unless the disk is full). */
async function writeAll(fd: number, buffers: Buffer[], position: number): Promise<void> {
  let at = position;
  let rest = buffers;
  for (;;) {
    const { bytesWritten } = await writevFd(fd, rest, at);
    at += bytesWritten;
    let skip = bytesWritten;
    while (rest.length > 0 && skip >= rest[0]!.length) {
      skip -= rest[0]!.length;
      rest = rest.slice(1);
    }
    if (rest.length === 0) return;
    if (bytesWritten === 0) throw Object.assign(new Error("write made no progress"), { code: "EIO" });
    rest = [rest[0]!.subarray(skip), ...rest.slice(1)];
  }
}
