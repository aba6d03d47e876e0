import type { BlockArena } from "./block-arena.ts";
import { createDigests, type EtagLayout } from "./digests.ts";

export interface DigestResult {
  readonly sha256: string;
  readonly etag?: string;
}

/**
 * The digests of a body fed block by block, in order. `update` takes over a block of `arena` and
 * gives it back once hashed. Hashing runs on the main thread: on the 2-core machines measured, a
 * hashing worker cost more (thread wake-ups, CPU shared with the store) than it overlapped.
 */
export interface Digester {
  update(block: Buffer): void;
  finish(): DigestResult;
}

export function createDigester(options: { layout?: EtagLayout; arena: BlockArena }): Digester {
  const digests = createDigests(options.layout);
  return {
    update(block) {
      digests.update(block);
      options.arena.give(block);
    },
    finish() {
      const etag = digests.etag();
      return { sha256: digests.sha256(), ...(etag ? { etag } : {}) };
    },
  };
}
