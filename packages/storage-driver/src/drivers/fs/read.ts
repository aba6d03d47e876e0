import type { FileHandle } from "node:fs/promises";
import { Readable } from "node:stream";
import { heedErrors, throwIfAborted } from "../../body.ts";
import { validateKey } from "../../keys.ts";
import { resolveRange } from "../../range.ts";
import type { FillableBody, StorageDriver } from "../../types.ts";
import type { Describer } from "./describe.ts";
import { preconditionFailed } from "./errors.ts";

/** Bytes per read in stream mode: the 64 KiB default cost RETR and git-lfs downloads about half their speed. */
const READ_BYTES = 1 << 20;

/**
 * The body of an fs `get`: a byte range of an open data file, as a Readable of 1 MiB reads, or
 * through `fill` into the caller's own buffers (the ftps-gateway's RETR reuses two, instead of a
 * fresh 1 MiB buffer per read that the kernel must fault in and the collector free). The file is
 * closed when the range has been read, or on destroy; an abort of `signal` destroys the body with an
 * `AbortError`, as `createReadStream` does.
 */
export class FileBody extends Readable implements FillableBody {
  readonly #handle: FileHandle;
  #position: number;
  readonly #end: number;

  /** `end` is exclusive. */
  constructor(handle: FileHandle, start: number, end: number, signal?: AbortSignal) {
    super({ highWaterMark: READ_BYTES });
    this.#handle = handle;
    this.#position = start;
    this.#end = end;
    // Destroyed by an abort or a failed read while no stream reader listens (RETR fills buffers).
    heedErrors(this);
    if (signal) {
      const abort = () => this.destroy(abortError(signal));
      if (signal.aborted) queueMicrotask(abort);
      else signal.addEventListener("abort", abort, { once: true });
    }
  }

  override _read(): void {
    const length = Math.min(READ_BYTES, this.#end - this.#position);
    if (length <= 0) {
      this.push(null);
      return;
    }
    const buffer = Buffer.allocUnsafeSlow(length);
    this.fill(buffer, 0).then(
      (n) => {
        if (n > 0) this.push(buffer.subarray(0, n));
        if (n < length) this.push(null);
      },
      (error: Error) => this.destroy(error),
    );
  }

  async fill(target: Buffer, offset: number): Promise<number> {
    if (this.destroyed) throw this.errored ?? new Error("the body was closed");
    let added = 0;
    while (offset + added < target.length && this.#position < this.#end) {
      const want = Math.min(target.length - offset - added, this.#end - this.#position);
      const { bytesRead } = await this.#handle.read(target, offset + added, want, this.#position);
      // A file never shrinks under an open handle (objects are replaced by rename), but do not spin.
      if (bytesRead === 0) break;
      this.#position += bytesRead;
      added += bytesRead;
    }
    return added;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // FileHandle.close waits for reads in flight.
    this.#handle.close().then(
      () => callback(error),
      (closeError: Error) => callback(error ?? closeError),
    );
  }
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error("The operation was aborted", { cause: signal.reason }), {
    name: "AbortError",
    code: "ABORT_ERR",
  });
}

/** `head` and `get`: the object's data file, opened with the sidecar of the same version. */
export function createReads(describer: Describer): Pick<StorageDriver, "head" | "get"> {
  const { openConsistent, quickInfo } = describer;
  return {
    async head(key) {
      validateKey(key);
      const quick = await quickInfo(key);
      if (quick) return quick;
      const { handle, info } = await openConsistent(key);
      await handle.close();
      return info;
    },

    async get(key, getOptions = {}) {
      validateKey(key);
      throwIfAborted(getOptions.signal);
      const { handle, info } = await openConsistent(key);
      try {
        if (getOptions.ifMatch !== undefined && getOptions.ifMatch !== info.etag) {
          throw preconditionFailed(key, "the etag does not match");
        }
        const range = getOptions.range ? resolveRange(getOptions.range, info.size) : undefined;
        const body = new FileBody(
          handle,
          range?.start ?? 0,
          range ? range.end + 1 : info.size,
          getOptions.signal,
        );
        return range ? { info, body, range } : { info, body };
      } catch (error) {
        await handle.close();
        throw error;
      }
    },
  };
}
