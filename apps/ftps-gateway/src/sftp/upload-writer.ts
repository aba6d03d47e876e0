import { once } from "node:events";
import { PassThrough, type Readable } from "node:stream";
import { WharfError } from "@wharf/errors";
import { userError } from "../core/errors.ts";

export interface UploadWriterOptions {
  /** Stores `body`, the file's bytes from `base` on (0, or the old size when resuming); atomic. */
  readonly store: (body: Readable, base: number) => Promise<void>;
  /** Most bytes of out-of-order WRITEs held while the bytes before them are missing. */
  readonly windowBytes: number;
  /** The existing file's size when the client may resume it (opened without TRUNC), else undefined. */
  readonly resumeFrom?: number;
  /** APPEND: the first WRITE must come at `resumeFrom` (the end of the file). */
  readonly resumeOnly?: boolean;
  /** Store an empty object when CLOSE comes without any WRITE (a new or truncated file). */
  readonly createIfEmpty: boolean;
}

/**
 * Bytes queued for the store beyond which WRITEs fail: a client keeps its requests in flight
 * (OpenSSH: 64 x 32 KiB) and the SSH channel does not push back, so this is the hard bound.
 */
const maxQueuedBytes = 32 << 20;

export type UploadWriter = ReturnType<typeof createUploadWriter>;

/**
 * Turns SFTP WRITEs (explicit offsets, pipelined) into one in-order stream for the store. Writes
 * ahead of the next expected offset wait in a bounded window; a rewrite of bytes already sent, a
 * write beyond the window, or a hole left at CLOSE fails the upload, and nothing is stored. A WRITE
 * is answered once its bytes are taken by the store's stream, so memory stays at the stream's
 * buffer plus the window however many requests the client keeps in flight.
 */
export function createUploadWriter(options: UploadWriterOptions) {
  let body: PassThrough | undefined;
  let stored: Promise<void> | undefined;
  let failure: unknown;
  let next = 0;
  const ahead = new Map<number, Buffer>();
  let aheadBytes = 0;

  function begin(firstOffset: number) {
    const base = options.resumeFrom !== undefined && firstOffset === options.resumeFrom ? firstOffset : 0;
    if (options.resumeOnly && firstOffset !== options.resumeFrom)
      fail(
        userError(
          "UNSUPPORTED",
          `Append mode writes at the end of the file (${options.resumeFrom}); nothing stored.`,
        ),
      );
    next = base;
    const stream = new PassThrough({ highWaterMark: 1 << 20 });
    stream.on("error", () => {});
    body = stream;
    stored = options.store(stream, base);
    stored.catch((error: unknown) => {
      failure ??= error;
      stream.destroy(error as Error);
    });
    return stream;
  }

  function fail(error: WharfError): never {
    failure ??= error;
    ahead.clear();
    aheadBytes = 0;
    body?.destroy(error);
    throw error;
  }

  /** One wait for the stream's `drain`, shared by every WRITE queued behind it. */
  let drained: Promise<unknown> | undefined;

  async function push(stream: PassThrough, data: Buffer) {
    if (stream.writableLength > maxQueuedBytes)
      fail(userError("QUOTA_EXCEEDED", "Too many writes in flight; nothing stored."));
    next += data.length;
    if (stream.write(data)) return;
    drained ??= once(stream, "drain").finally(() => {
      drained = undefined;
    });
    await drained;
  }

  return {
    /** Bytes accepted in order so far (the size FSTAT shows). */
    size: () => next,
    async write(offset: number, data: Buffer): Promise<void> {
      if (failure) throw failure;
      const stream = body ?? begin(offset);
      if (offset < next || ahead.has(offset))
        fail(
          userError("UNSUPPORTED", `Rewriting bytes at offset ${offset} is not supported; nothing stored.`),
        );
      if (offset > next) {
        if (aheadBytes + data.length > options.windowBytes)
          fail(
            userError(
              "INVALID_ARGUMENT",
              `Write at offset ${offset} leaves a hole at ${next}; nothing stored.`,
            ),
          );
        ahead.set(offset, data);
        aheadBytes += data.length;
        return;
      }
      await push(stream, data);
      for (let waiting = ahead.get(next); waiting; waiting = ahead.get(next)) {
        ahead.delete(next);
        aheadBytes -= waiting.length;
        await push(stream, waiting);
      }
    },
    /** Ends the stream and waits until the object is stored; fails if a hole is left. */
    async close(): Promise<void> {
      if (failure) throw failure;
      if (ahead.size > 0)
        fail(userError("INVALID_ARGUMENT", `The file has a hole at offset ${next}; nothing stored.`));
      if (!body) {
        if (!options.createIfEmpty) return;
        begin(0);
      }
      body!.end();
      await stored;
    },
    /** Drops the upload (client gone, session closed): nothing is stored. */
    async abort(): Promise<void> {
      failure ??= new WharfError("CANCELLED", "upload aborted");
      body?.destroy(failure as Error);
      await stored?.catch(() => {});
    },
  };
}
