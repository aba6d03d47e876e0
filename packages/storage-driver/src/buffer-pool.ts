/**
 * Buffers of one size kept for reuse: memory that was written before needs no page faults, and a
 * transfer that takes two and gives them back makes no garbage. Holds at most `keep` spare buffers;
 * `take` makes a new one when none is spare.
 *
 * @example
 * const pool = new BufferPool(1 << 20, 8);
 * const buffer = pool.take();
 * // ... fill, write ...
 * pool.give(buffer); // only once nothing can still write into it
 */
export class BufferPool {
  readonly #spare: Buffer[] = [];
  readonly #size: number;
  readonly #keep: number;

  constructor(size: number, keep: number) {
    this.#size = size;
    this.#keep = keep;
  }

  take(): Buffer {
    return this.#spare.pop() ?? Buffer.allocUnsafeSlow(this.#size);
  }

  give(buffer: Buffer): void {
    if (buffer.length === this.#size && this.#spare.length < this.#keep) this.#spare.push(buffer);
  }
}
