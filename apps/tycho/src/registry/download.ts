import { open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { isWharfError, WharfError } from "@wharf/errors";
import type { ObjectInfo, StorageDriver } from "@wharf/storage-driver";
import { createBlockArena } from "./block-arena.ts";
import { createDigester, type DigestResult } from "./digester.ts";
import type { EtagLayout } from "./digests.ts";
import { InOrderHasher } from "./in-order-hasher.ts";
import { mapLimit } from "./pool.ts";
import { type ProgressListener, partSizeFor, type TransferSettings } from "./transfer.ts";

export interface DownloadRequest {
  readonly key: string;
  readonly info: ObjectInfo;
  /** The partial file; its progress is kept in `<path>.json` so an interrupted download resumes. */
  readonly path: string;
  readonly transfer: TransferSettings;
  /** Also recompute the object's S3 ETag from the bytes, laid out so. */
  readonly etagLayout?: EtagLayout;
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

export interface DownloadResult {
  readonly sha256: string;
  /** The ETag recomputed from the bytes, when `etagLayout` was given. */
  readonly etag?: string;
  /** Bytes kept from an earlier, interrupted download. */
  readonly resumedBytes: number;
  /** Bytes received from the store by this run. */
  readonly fetchedBytes: number;
}

interface PartialState {
  readonly key: string;
  readonly etag: string;
  readonly size: number;
  readonly partSize: number;
  readonly done: readonly number[];
}

/** Network chunks are small: they are gathered into blocks of this size per positional write. */
const blockSize = 1024 * 1024;
/** Most bytes held in memory for hashing in order (also bounded by concurrency x part size). */
const maxWindowBytes = 128 * 1024 * 1024;

/**
 * Downloads an object into `path` with parallel ranged reads pinned to the object's etag. Parts
 * already on disk from an interrupted run of the same object are kept. The sha256 of the whole
 * file (and, when asked, its S3 ETag) is computed while the download runs, in file order, from
 * the bytes in memory; only parts that ran too far ahead and resumed parts are read back.
 */
export async function downloadObject(
  storage: StorageDriver,
  request: DownloadRequest,
): Promise<DownloadResult> {
  const { info, path } = request;
  const size = info.size;
  const ranged = storage.capabilities.rangeRead;
  const partSize = ranged ? partSizeFor(size, request.transfer) : Math.max(size, 1);
  const count = size === 0 ? 0 : Math.ceil(size / partSize);
  const statePath = `${path}.json`;
  const expected = { key: request.key, etag: info.etag, size, partSize };
  const done = new Set((await resumableParts(path, statePath, expected)).filter((index) => index < count));
  const handle = await open(path, done.size > 0 ? "r+" : "w+");
  try {
    if (done.size === 0) await handle.truncate(size);
    const ranges = Array.from({ length: count }, (_, index) => ({
      start: index * partSize,
      end: Math.min((index + 1) * partSize, size),
    }));
    const resumedBytes = [...done].reduce((sum, index) => {
      const { start, end } = ranges[index] as { start: number; end: number };
      return sum + end - start;
    }, 0);
    let moved = resumedBytes;
    let fetchedBytes = 0;
    request.onProgress?.(moved, size);

    const concurrency = Math.max(1, Math.min(request.transfer.concurrency, count));
    const windowBytes = Math.min(maxWindowBytes, concurrency * partSize);
    // Every block a download can hold at once: the window, one per part in flight, one to read back.
    const block = Math.max(1, Math.min(blockSize, size));
    const arenaBlocks = Math.min(
      Math.ceil(windowBytes / block) + concurrency + 2,
      Math.ceil(size / block) + concurrency + 1,
    );
    const blocks = createBlockArena({ blocks: arenaBlocks, blockSize: block });
    const digester = createDigester({
      ...(request.etagLayout ? { layout: request.etagLayout } : {}),
      arena: blocks,
    });
    const hasher = new InOrderHasher({
      ranges,
      done,
      digester,
      file: handle,
      windowBytes,
      take: blocks.take,
      release: blocks.give,
    });
    let saving: Promise<void> = Promise.resolve();
    const saveState = () => {
      const snapshot: PartialState = { ...expected, done: [...done].sort((a, b) => a - b) };
      saving = saving.then(async () => {
        await writeFile(`${statePath}.tmp`, JSON.stringify(snapshot));
        await rename(`${statePath}.tmp`, statePath);
      });
      return saving;
    };

    let digests: DigestResult;
    const missing = ranges.map((_, index) => index).filter((index) => !done.has(index));
    try {
      await mapLimit(missing, concurrency, async (index) => {
        request.signal?.throwIfAborted();
        const { start, end } = ranges[index] as { start: number; end: number };
        const { body } = await storage.get(request.key, {
          ifMatch: info.etag,
          ...(count > 1 ? { range: { start, end: end - 1 } } : {}),
          ...(request.signal ? { signal: request.signal } : {}),
        });
        let position = start;
        let block = blocks.take();
        let filled = 0;
        const flush = async () => {
          if (filled === 0) return;
          const bytes = block.subarray(0, filled);
          await handle.write(bytes, 0, filled, position);
          hasher.accept(index, position, bytes);
          block = blocks.take();
          position += filled;
          moved += filled;
          filled = 0;
          request.onProgress?.(moved, size);
        };
        for await (const chunk of body as AsyncIterable<Buffer>) {
          fetchedBytes += chunk.length;
          if (position + filled + chunk.length > end) throw shortRead(request.key);
          for (let offset = 0; offset < chunk.length; ) {
            const copied = chunk.copy(block, filled, offset);
            filled += copied;
            offset += copied;
            if (filled === block.length) await flush();
          }
        }
        await flush();
        blocks.give(block);
        if (position !== end) throw shortRead(request.key);
        done.add(index);
        hasher.complete(index);
        await saveState();
      });
      await hasher.finish();
      digests = digester.finish();
    } catch (error) {
      await saving.catch(() => undefined);
      if (isWharfError(error, "PRECONDITION_FAILED")) await discardPartial(path);
      throw error;
    }
    // No fsync of the whole file (as aws s3 cp, curl and tychoreg): it cost seconds per GiB. The
    // digests above were taken of the bytes written, and the rename only ever shows a whole file.
    return { ...digests, resumedBytes, fetchedBytes };
  } finally {
    await handle.close();
  }
}

/** Removes a partial download and its progress file. */
export async function discardPartial(path: string): Promise<void> {
  await rm(`${path}.json`, { force: true });
  await rm(path, { force: true });
}

async function resumableParts(
  path: string,
  statePath: string,
  expected: Omit<PartialState, "done">,
): Promise<number[]> {
  try {
    const state = JSON.parse(await readFile(statePath, "utf8")) as PartialState;
    const onDisk = await stat(path);
    const same =
      state.key === expected.key &&
      state.etag === expected.etag &&
      state.size === expected.size &&
      state.partSize === expected.partSize &&
      onDisk.size === expected.size &&
      Array.isArray(state.done);
    if (same) return state.done.filter((index) => Number.isInteger(index) && index >= 0);
  } catch {}
  await rm(statePath, { force: true });
  return [];
}

function shortRead(key: string): WharfError {
  return new WharfError("UNAVAILABLE", `The store returned a body of the wrong length for ${key}; try again`);
}
