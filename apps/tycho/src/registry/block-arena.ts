/**
 * Fixed-size blocks carved out of one buffer allocated up front, taken and given back, so a
 * download allocates (and the garbage collector tracks) one buffer instead of one per MiB. If every
 * block is out, `take` returns a stray buffer of the same size, outside the arena.
 */
export interface BlockArena {
  readonly blockSize: number;
  take(): Buffer;
  /** Gives back a block (or a prefix of one) taken from this arena; strays are dropped. */
  give(block: Buffer): void;
}

export function createBlockArena(options: { blocks: number; blockSize: number }): BlockArena {
  const { blockSize } = options;
  const memory = new ArrayBuffer(options.blocks * blockSize);
  const views: (Buffer | undefined)[] = new Array(options.blocks);
  const free: number[] = [];
  for (let slot = options.blocks - 1; slot >= 0; slot--) free.push(slot);
  return {
    blockSize,
    take() {
      const slot = free.pop();
      if (slot === undefined) return Buffer.allocUnsafeSlow(blockSize);
      views[slot] ??= Buffer.from(memory, slot * blockSize, blockSize);
      return views[slot];
    },
    give(block) {
      if (block.buffer === memory && block.byteOffset % blockSize === 0)
        free.push(block.byteOffset / blockSize);
    },
  };
}
