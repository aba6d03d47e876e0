/**
 * Fixed-size blocks carved out of one buffer allocated up front, taken and given back, so a
 * download allocates (and the garbage collector tracks) one buffer instead of one per MiB. When
 * `shared`, the buffer is a SharedArrayBuffer: a worker thread reads the blocks in place. If every
 * block is out, `take` returns a stray buffer of the same size, outside the arena.
 */
export interface BlockArena {
  readonly blockSize: number;
  /** The arena's memory when it is shared with a worker. */
  readonly shared: SharedArrayBuffer | undefined;
  take(): Buffer;
  /** Gives back a block (or a prefix of one) taken from this arena; strays are dropped. */
  give(block: Buffer): void;
  /** The block's offset in the shared memory, or undefined for a stray. */
  offsetOf(block: Buffer): number | undefined;
}

export function createBlockArena(options: {
  blocks: number;
  blockSize: number;
  shared: boolean;
}): BlockArena {
  const { blockSize } = options;
  const memory = options.shared
    ? new SharedArrayBuffer(options.blocks * blockSize)
    : new ArrayBuffer(options.blocks * blockSize);
  const views: (Buffer | undefined)[] = new Array(options.blocks);
  const free: number[] = [];
  for (let slot = options.blocks - 1; slot >= 0; slot--) free.push(slot);
  const slotOf = (block: Buffer): number | undefined =>
    block.buffer === memory && block.byteOffset % blockSize === 0 ? block.byteOffset / blockSize : undefined;
  return {
    blockSize,
    shared: options.shared ? (memory as SharedArrayBuffer) : undefined,
    take() {
      const slot = free.pop();
      if (slot === undefined) return Buffer.allocUnsafeSlow(blockSize);
      views[slot] ??= Buffer.from(memory, slot * blockSize, blockSize);
      return views[slot];
    },
    give(block) {
      const slot = slotOf(block);
      if (slot !== undefined) free.push(slot);
    },
    offsetOf(block) {
      const slot = slotOf(block);
      return slot === undefined ? undefined : slot * blockSize;
    },
  };
}
