import { Socket } from "node:net";
import { Readable } from "node:stream";
import type { FillableBody } from "@wharf/storage-driver";

/** Bytes of each block when the body is read as a stream (behind a resumed prefix, the memory driver). */
const STREAM_BLOCK_BYTES = 256 * 1024;
/** Where a read lands when no fill is waiting (the first read, or one already under way at a pause). */
const SPARE_BYTES = 64 * 1024;

/**
 * An upload's body read from a plain data connection with Node's `onread`: the kernel copies each
 * socket read straight into the memory the consumer hands to `fill` (an S3 part buffer, or the fs
 * driver's write buffers) instead of into a fresh 64 KiB buffer per read that is copied once more
 * and then waits for the garbage collector. At a few hundred MB/s those waiting buffers were most of
 * the gateway's resident memory (glibc's heap grew by ~90 MiB with four uploads to S3), and their
 * allocation and page faults much of its CPU.
 *
 * It is also a Readable, in blocks of 256 KiB, for consumers that take a stream.
 *
 * The end of the connection is not the end of the body yet: the session calls `finish` or `fail`
 * (it holds EOF back for a moment, so a client that died is told apart from one that finished).
 */
export class SocketBody extends Readable implements FillableBody {
  readonly socket: Socket;
  readonly #spare = Buffer.allocUnsafe(SPARE_BYTES);
  /** Bytes read before a fill wanted them (copied out of the spare buffer). */
  readonly #carry: Buffer[] = [];
  #fill:
    | {
        target: Buffer;
        offset: number;
        added: number;
        resolve: (n: number) => void;
        reject: (e: Error) => void;
      }
    | undefined;
  /** Whether the buffer handed to the socket last is the waiting fill's memory (else the spare). */
  #givenTarget = false;
  #bytes = 0;
  #ended = false;
  #failure: Error | undefined;

  /**
   * Takes over an accepted connection that has not started reading (`pauseOnConnect`): Node offers
   * `onread` only to sockets it creates, so the connection's handle moves to a new Socket made with
   * it, and the old wrapper, left without a handle, is destroyed (which releases its server slot).
   */
  constructor(accepted: Socket) {
    super({ highWaterMark: STREAM_BLOCK_BYTES });
    const internals = accepted as unknown as { _handle: unknown };
    const handle = internals._handle;
    internals._handle = null;
    accepted.destroy();
    this.socket = new Socket({
      handle,
      readable: true,
      writable: true,
      pauseOnCreate: true,
      onread: { buffer: () => this.#nextBuffer(), callback: (n: number) => this.#received(n) },
    } as ConstructorParameters<typeof Socket>[0]);
    // A fill reports a failure by rejecting; with no stream reader the 'error' event has no one to
    // tell, and must not take the process down. Stream readers still get it (`errored` keeps it too).
    this.on("error", () => {});
  }

  /** Whether `accepted` can be taken over: a plain TCP socket with its handle, not reading yet. */
  static canAdopt(accepted: Socket): boolean {
    const handle = (accepted as unknown as { _handle?: { reading?: boolean } | null })._handle;
    // Bytes already read (after a PROXY header) are in the stream's buffer, which the handle bypasses.
    return (
      handle != null && handle.reading !== true && accepted.readableLength === 0 && !("encrypted" in accepted)
    );
  }

  /** Bytes received from the connection so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The body ends here (the connection's end was a real end of file). */
  finish(): void {
    this.#ended = true;
    this.#settle();
  }

  /** The body is broken: pending and later fills fail, the stream errors. */
  fail(error: Error): void {
    if (this.#failure || this.#ended) return;
    this.#failure = error;
    this.#settle();
    this.socket.destroy();
    if (!this.destroyed) this.destroy(error);
  }

  fill(target: Buffer, offset: number): Promise<number> {
    if (this.#fill) return Promise.reject(new Error("SocketBody: one fill at a time"));
    if (this.#failure) return Promise.reject(this.#failure);
    let added = 0;
    while (this.#carry.length > 0 && offset + added < target.length) {
      const head = this.#carry[0]!;
      const copied = head.copy(target, offset + added);
      added += copied;
      if (copied === head.length) this.#carry.shift();
      else this.#carry[0] = head.subarray(copied);
    }
    if (offset + added === target.length || this.#ended) return Promise.resolve(added);
    return new Promise((resolve, reject) => {
      this.#fill = { target, offset, added, resolve, reject };
      this.socket.resume();
    });
  }

  override _read(): void {
    const block = Buffer.allocUnsafe(STREAM_BLOCK_BYTES);
    this.fill(block, 0).then(
      (n) => {
        if (n > 0) this.push(block.subarray(0, n));
        if (n < block.length) this.push(null);
      },
      (error: Error) => this.destroy(error),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#failure && !this.#ended) {
      this.#failure = error ?? new Error("upload body destroyed");
      this.#settle();
    }
    this.socket.destroy();
    callback(error);
  }

  /** Resolves or rejects a waiting fill once the body ended or failed. */
  #settle(): void {
    const fill = this.#fill;
    if (!fill) return;
    this.#fill = undefined;
    if (this.#failure) fill.reject(this.#failure);
    else fill.resolve(fill.added);
  }

  #nextBuffer(): Buffer {
    const fill = this.#fill;
    this.#givenTarget = fill !== undefined;
    return fill ? fill.target.subarray(fill.offset + fill.added) : this.#spare;
  }

  /** `false` pauses the socket: the waiting fill is complete, or there is none. */
  #received(n: number): boolean {
    this.#bytes += n;
    const fill = this.#fill;
    if (this.#givenTarget && fill) {
      fill.added += n;
    } else {
      let data = this.#spare.subarray(0, n);
      if (fill) {
        const copied = data.copy(fill.target, fill.offset + fill.added);
        fill.added += copied;
        data = data.subarray(copied);
      }
      if (data.length > 0) this.#carry.push(Buffer.from(data));
    }
    if (fill && fill.offset + fill.added === fill.target.length) {
      this.#fill = undefined;
      fill.resolve(fill.added);
      return false;
    }
    return fill !== undefined;
  }
}
