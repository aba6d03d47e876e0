import { open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { isWharfError, WharfError } from "@wharf/errors";
import type { ObjectInfo, StorageDriver } from "@wharf/storage-driver";
import { createBlockArena } from "./block-arena.ts";
import { createDigester, type DigestResult } from "./digester.ts";
import type { EtagLayout } from "./digests.ts";
import { InOrderHasher } from "./in-order-hasher.ts";
import { mapLimit } from "./pool.ts";
import { type BodySink, createRangeClient } from "./range-client.ts";
import { type ProgressListener, rangeSizeFor, type TransferSettings } from "./transfer.ts";

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
  const partSize = ranged ? rangeSizeFor(size, request.transfer) : Math.max(size, 1);
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
    // Every block a download can hold at once: the window, two per part in flight (one being
    // written, one being filled), one to read back.
    const block = Math.max(1, Math.min(blockSize, size));
    const arenaBlocks = Math.min(
      Math.ceil(windowBytes / block) + 2 * concurrency + 1,
      Math.ceil(size / block) + 2 * concurrency + 1,
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
      // Not awaited by the parts: a failure surfaces once they are done.
      saving.catch(() => undefined);
      return saving;
    };

    let digests: DigestResult;
    const missing = ranges.map((_, index) => index).filter((index) => !done.has(index));
    const fetcher = await partFetcher(storage, request, count);
    try {
      await mapLimit(missing, concurrency, async (index) => {
        request.signal?.throwIfAborted();
        const { start, end } = ranges[index] as { start: number; end: number };
        let position = start;
        let block = blocks.take();
        let filled = 0;
        const flush = async () => {
          const bytes = block.subarray(0, filled);
          const at = position;
          // A fresh block first, so the reader always has room while this one is written.
          block = blocks.take();
          position += filled;
          filled = 0;
          await handle.write(bytes, 0, bytes.length, at);
          hasher.accept(index, at, bytes);
          moved += bytes.length;
          request.onProgress?.(moved, size);
        };
        const sink: BodySink = {
          space: () => block.subarray(filled, Math.min(block.length, end - position)),
          advance(bytes) {
            fetchedBytes += bytes;
            filled += bytes;
            return filled === block.length || position + filled === end ? flush() : undefined;
          },
        };
        await fetcher.fetch({ start, end }, sink);
        blocks.give(block);
        if (position !== end) throw shortRead(request.key);
        done.add(index);
        hasher.complete(index);
        void saveState();
      });
      await saving;
      await hasher.finish();
      digests = digester.finish();
    } catch (error) {
      await saving.catch(() => undefined);
      if (isWharfError(error, "PRECONDITION_FAILED")) await discardPartial(path);
      throw error;
    } finally {
      fetcher.close();
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

interface PartFetcher {
  /** Streams bytes [start, end) of the object into `sink`. */
  fetch(range: { start: number; end: number }, sink: BodySink): Promise<void>;
  close(): void;
}

/** Presigned URLs for the fast path are renewed when less than this is left of their lifetime. */
const presignMarginMs = 5 * 60_000;

/**
 * How parts are read: from a store that presigns plain-HTTP URLs without extra headers, by
 * {@link createRangeClient} (a third of node:http's CPU per GiB); otherwise through the driver's `get`.
 */
async function partFetcher(
  storage: StorageDriver,
  request: DownloadRequest,
  count: number,
): Promise<PartFetcher> {
  const { key, info, signal } = request;
  const presign = () => storage.presign(key, { method: "GET", expiresIn: 3600 });
  const first = storage.capabilities.presign && count > 0 ? await presign() : undefined;
  if (first === undefined || !first.url.startsWith("http:") || Object.keys(first.headers).length > 0)
    return { fetch: (range, sink) => driverFetch(storage, request, count, range, sink), close() {} };
  let signed = Promise.resolve(first);
  const client = createRangeClient(signal ? { signal } : {});
  return {
    async fetch(range, sink) {
      let current = await signed;
      if (current.expiresAt.getTime() - Date.now() < presignMarginMs) {
        signed = presign();
        current = await signed;
      }
      await client.get({ url: new URL(current.url), ...range, size: info.size, ifMatch: info.etag }, sink);
    },
    close: () => client.close(),
  };
}

async function driverFetch(
  storage: StorageDriver,
  request: DownloadRequest,
  count: number,
  { start, end }: { start: number; end: number },
  sink: BodySink,
): Promise<void> {
  const { body } = await storage.get(request.key, {
    ifMatch: request.info.etag,
    ...(count > 1 ? { range: { start, end: end - 1 } } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
  });
  let position = start;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (position + chunk.length > end) throw shortRead(request.key);
    position += chunk.length;
    for (let offset = 0; offset < chunk.length; ) {
      const copied = chunk.copy(sink.space(), 0, offset);
      offset += copied;
      const pending = sink.advance(copied);
      if (pending) await pending;
    }
  }
}

function shortRead(key: string): WharfError {
  return new WharfError("UNAVAILABLE", `The store returned a body of the wrong length for ${key}; try again`);
}
