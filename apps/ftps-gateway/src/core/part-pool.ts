import { WharfError } from "@wharf/errors";

/**
 * A fixed budget of equally sized part buffers shared by every upload of the server, so the memory
 * that multipart uploads hold is `parts × partBytes` however many sessions upload at once. Buffers
 * are allocated on first use and reused afterwards; waiters are served first come, first served.
 */
export interface PartPool {
  readonly partBytes: number;
  /** Resolves with a buffer of `partBytes` once one is free; rejects with `CANCELLED` on `signal`. */
  acquire(signal?: AbortSignal): Promise<Buffer>;
  release(buffer: Buffer): void;
  /** Buffers handed out right now. */
  inUse(): number;
}

export function createPartPool(options: { partBytes: number; parts: number }): PartPool {
  const { partBytes, parts } = options;
  const free: Buffer[] = [];
  const waiters: Array<{ resolve: (buffer: Buffer) => void }> = [];
  let allocated = 0;
  let lent = 0;

  return {
    partBytes,
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(cancelled(signal));
      let ready = free.pop();
      if (!ready && allocated < parts) {
        allocated++;
        ready = Buffer.allocUnsafeSlow(partBytes);
      }
      if (ready) {
        lent++;
        return Promise.resolve(ready);
      }
      return new Promise<Buffer>((resolve, reject) => {
        const waiter = {
          resolve: (buffer: Buffer) => {
            signal?.removeEventListener("abort", onAbort);
            lent++;
            resolve(buffer);
          },
        };
        const onAbort = () => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) waiters.splice(index, 1);
          reject(cancelled(signal!));
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        waiters.push(waiter);
      });
    },
    release(buffer) {
      lent--;
      const next = waiters.shift();
      if (next) next.resolve(buffer);
      else free.push(buffer);
    },
    inUse: () => lent,
  };
}

function cancelled(signal: AbortSignal): WharfError {
  return new WharfError("CANCELLED", "upload cancelled", { cause: signal.reason });
}
