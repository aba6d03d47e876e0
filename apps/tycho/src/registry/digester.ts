import { Worker } from "node:worker_threads";
import { WharfError } from "@wharf/errors";
import type { BlockArena } from "./block-arena.ts";
import type { DigestReply, DigestRequest, DigestWorkerData } from "./digest-worker.ts";
import { createDigests, type EtagLayout } from "./digests.ts";

export interface DigestResult {
  readonly sha256: string;
  readonly etag?: string;
}

/**
 * The digests of a body fed block by block, in order. `update` takes over a block of `arena`
 * and gives it back to the arena once hashed. With a shared arena, hashing runs on a worker
 * thread that reads the blocks in place, beside the network and disk work instead of between it.
 */
export interface Digester {
  update(block: Buffer): void;
  /** Resolves once at most `maxQueuedBytes` wait to be hashed. */
  ready(): Promise<void>;
  finish(): Promise<DigestResult>;
  /** Stops the worker; safe after `finish` and after failures. */
  close(): Promise<void>;
}

export interface DigesterOptions {
  readonly layout?: EtagLayout;
  readonly arena: BlockArena;
  readonly maxQueuedBytes: number;
}

export function createDigester(options: DigesterOptions): Digester {
  return options.arena.shared ? workerDigester(options, options.arena.shared) : inlineDigester(options);
}

function inlineDigester({ layout, arena }: DigesterOptions): Digester {
  const digests = createDigests(layout);
  return {
    update(block) {
      digests.update(block);
      arena.give(block);
    },
    ready: () => Promise.resolve(),
    async finish() {
      const etag = digests.etag();
      return { sha256: digests.sha256(), ...(etag ? { etag } : {}) };
    },
    close: () => Promise.resolve(),
  };
}

const workerUrl = new URL("./digest-worker.ts", import.meta.url);

function workerDigester(
  { layout, arena, maxQueuedBytes }: DigesterOptions,
  memory: SharedArrayBuffer,
): Digester {
  const worker = new Worker(workerUrl, { workerData: { layout, arena: memory } satisfies DigestWorkerData });
  worker.unref();
  let queued = 0;
  let failure: { error: unknown } | undefined;
  let waiting: Array<() => void> = [];
  let finished: { resolve(result: DigestResult): void; reject(error: unknown): void } | undefined;
  const wake = () => {
    const woken = waiting;
    waiting = [];
    for (const resolve of woken) resolve();
  };
  worker.on("message", (reply: DigestReply) => {
    if ("offset" in reply) {
      queued -= reply.length;
      arena.give(Buffer.from(memory, reply.offset, reply.length));
      if (queued <= maxQueuedBytes) wake();
    } else finished?.resolve({ sha256: reply.sha256, ...(reply.etag ? { etag: reply.etag } : {}) });
  });
  const fail = (error: unknown) => {
    failure ??= { error };
    wake();
    finished?.reject(failure.error);
  };
  worker.on("error", fail);
  worker.on("exit", () => fail(new WharfError("INTERNAL", "the hashing thread stopped")));
  const check = () => {
    if (failure) throw failure.error;
  };
  return {
    update(block) {
      check();
      const offset = arena.offsetOf(block);
      if (offset === undefined) {
        worker.postMessage({ copy: block } satisfies DigestRequest);
        return;
      }
      queued += block.length;
      worker.postMessage({ offset, length: block.length } satisfies DigestRequest);
    },
    async ready() {
      while (queued > maxQueuedBytes && !failure) await new Promise<void>((resolve) => waiting.push(resolve));
      check();
    },
    finish() {
      check();
      return new Promise<DigestResult>((resolve, reject) => {
        finished = { resolve, reject };
        worker.postMessage({ finish: true } satisfies DigestRequest);
      });
    },
    async close() {
      worker.removeAllListeners("exit");
      await worker.terminate();
    },
  };
}
