/**
 * How big objects move: uploads in parts of `partSize` bytes, downloads in ranged reads of
 * `rangeSize` bytes, `concurrency` of them in flight.
 */
export interface TransferSettings {
  readonly partSize: number;
  readonly rangeSize: number;
  readonly concurrency: number;
}

const mib = 1024 * 1024;

/**
 * Reads of 4 MiB, Ceph RGW's stripe (rgw_max_chunk_size): on the dev Ceph the gateway and OSD spent
 * less CPU per GiB the smaller the ranges, down to it (16 MiB: ~4.8 s, 8 MiB: ~3.3-5.0 s, 4 MiB:
 * ~3.7-4.3 s in the same rounds, each smaller size also the faster pull); aws s3 cp reads 8 MiB.
 */
export const defaultTransfer: TransferSettings = { partSize: 16 * mib, rangeSize: 4 * mib, concurrency: 8 };

/** S3 allows at most 10,000 parts: grow the part size for very large files. */
export function partSizeFor(size: number, settings: TransferSettings): number {
  return Math.max(settings.partSize, Math.ceil(size / 10_000));
}

/** Ranged reads grow likewise, so a download's progress file stays small. */
export function rangeSizeFor(size: number, settings: TransferSettings): number {
  return Math.max(settings.rangeSize, Math.ceil(size / 10_000));
}

/** Called with the bytes moved so far and the total. */
export type ProgressListener = (transferred: number, total: number) => void;
