import type { FileHandle } from "node:fs/promises";
import { WharfError } from "@wharf/errors";
import type { Digester } from "./digester.ts";

export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

interface PartState {
  readonly range: ByteRange;
  /** Blocks received ahead of their turn, kept in memory. */
  kept: Buffer[];
  /** From here to the part's end the bytes are hashed from the file: they did not fit the window. */
  spillFrom: number | undefined;
  complete: boolean;
}

/**
 * Feeds the blocks of a download that arrives in parallel parts to the digests in file order.
 * Blocks of the part whose turn it is are hashed as they arrive; blocks of later parts wait in
 * memory, up to `windowBytes` in all, and beyond that are read back from the file when their
 * turn comes (as are parts kept from an earlier, interrupted run).
 */
export class InOrderHasher {
  readonly #parts: PartState[];
  readonly #digester: Digester;
  readonly #file: FileHandle;
  readonly #windowBytes: number;
  readonly #take: () => Buffer;
  readonly #release: (block: Buffer) => void;
  #head = 0;
  #keptBytes = 0;
  #reading: Promise<void> | undefined;
  #failure: { error: unknown } | undefined;

  constructor(options: {
    ranges: readonly ByteRange[];
    /** Parts already in the file. */
    done: ReadonlySet<number>;
    digester: Digester;
    file: FileHandle;
    windowBytes: number;
    /** A free block, for reading parts back from the file. */
    take: () => Buffer;
    /** Takes back a block that is not to be hashed. */
    release: (block: Buffer) => void;
  }) {
    this.#parts = options.ranges.map((range, index) => {
      const done = options.done.has(index);
      return { range, kept: [], spillFrom: done ? range.start : undefined, complete: done };
    });
    this.#digester = options.digester;
    this.#file = options.file;
    this.#windowBytes = options.windowBytes;
    this.#take = options.take;
    this.#release = options.release;
    this.#advance();
  }

  /**
   * Takes over `block`, the bytes of part `index` at file offset `position`, already written to
   * the file. It goes to the digester (which hands it back) now, later, or straight back when
   * its bytes are to be read back from the file.
   */
  accept(index: number, position: number, block: Buffer): void {
    const part = this.#parts[index] as PartState;
    if (part.spillFrom === undefined) {
      if (index === this.#head) {
        this.#digester.update(block);
        return;
      }
      if (this.#keptBytes + block.length <= this.#windowBytes) {
        part.kept.push(block);
        this.#keptBytes += block.length;
        return;
      }
      part.spillFrom = position;
    }
    this.#release(block);
  }

  /** Part `index` is wholly in the file. */
  complete(index: number): void {
    (this.#parts[index] as PartState).complete = true;
    this.#advance();
  }

  /** Waits for the last parts' hashing; rejects if a read-back failed or a part is missing. */
  async finish(): Promise<void> {
    while (this.#reading) await this.#reading;
    if (this.#failure) throw this.#failure.error;
    if (this.#head !== this.#parts.length)
      throw new WharfError("INTERNAL", "download finished with parts not hashed");
  }

  #advance(): void {
    try {
      this.#advanceNow();
    } catch (error) {
      this.#failure ??= { error };
    }
  }

  #advanceNow(): void {
    if (this.#reading || this.#failure) return;
    while (this.#head < this.#parts.length) {
      const part = this.#parts[this.#head] as PartState;
      for (const block of part.kept) {
        this.#keptBytes -= block.length;
        this.#digester.update(block);
      }
      part.kept = [];
      if (!part.complete) return;
      if (part.spillFrom !== undefined) {
        const from = part.spillFrom;
        this.#reading = this.#readBack(from, part.range.end).then(
          () => {
            part.spillFrom = undefined;
            this.#reading = undefined;
            this.#head++;
            this.#advance();
          },
          (error: unknown) => {
            this.#failure = { error };
            this.#reading = undefined;
          },
        );
        return;
      }
      this.#head++;
    }
  }

  async #readBack(start: number, end: number): Promise<void> {
    for (let position = start; position < end; ) {
      const block = this.#take();
      const { bytesRead } = await this.#file.read(block, 0, Math.min(block.length, end - position), position);
      if (bytesRead === 0) throw new WharfError("INTERNAL", "partial file shrank while downloading");
      this.#digester.update(block.subarray(0, bytesRead));
      position += bytesRead;
    }
  }
}
