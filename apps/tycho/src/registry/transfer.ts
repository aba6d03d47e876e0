/** How big objects move: parts of `partSize` bytes, `concurrency` of them in flight. */
export interface TransferSettings {
  readonly partSize: number;
  readonly concurrency: number;
}

export const defaultTransfer: TransferSettings = { partSize: 16 * 1024 * 1024, concurrency: 8 };

/** S3 allows at most 10,000 parts: grow the part size for very large files. */
export function partSizeFor(size: number, settings: TransferSettings): number {
  return Math.max(settings.partSize, Math.ceil(size / 10_000));
}

/** Called with the bytes moved so far and the total. */
export type ProgressListener = (transferred: number, total: number) => void;
