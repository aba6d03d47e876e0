import { createHash } from "node:crypto";
import { type FileHandle, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { isWharfError, WharfError } from "@wharf/errors";
import type { ObjectInfo, StorageDriver } from "@wharf/storage-driver";
import { mapLimit } from "./pool.ts";
import { type ProgressListener, partSizeFor, type TransferSettings } from "./transfer.ts";

export interface DownloadRequest {
  readonly key: string;
  readonly info: ObjectInfo;
  /** The partial file; its progress is kept in `<path>.json` so an interrupted download resumes. */
  readonly path: string;
  readonly transfer: TransferSettings;
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

export interface DownloadResult {
  readonly sha256: string;
  /** Bytes kept from an earlier, interrupted download. */
  readonly resumedBytes: number;
}

interface PartialState {
  readonly key: string;
  readonly etag: string;
  readonly size: number;
  readonly partSize: number;
  readonly done: readonly number[];
}

const hashBlock = 1024 * 1024;
const writeBlock = 1024 * 1024;

/**
 * Downloads an object into `path` with parallel ranged reads pinned to the object's etag. Parts
 * already on disk from an interrupted run of the same object are kept. The sha256 of the whole
 * file is computed while the download runs, in file order, and returned.
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
    const partRange = (index: number) => ({
      start: index * partSize,
      end: Math.min((index + 1) * partSize, size),
    });
    const resumedBytes = [...done].reduce((sum, index) => {
      const { start, end } = partRange(index);
      return sum + end - start;
    }, 0);
    let moved = resumedBytes;
    request.onProgress?.(moved, size);

    const hash = createHash("sha256");
    let hashedParts = 0;
    let hashing: Promise<void> = Promise.resolve();
    const buffer = Buffer.allocUnsafe(hashBlock);
    const advanceHash = () => {
      hashing = hashing.then(async () => {
        while (hashedParts < count && done.has(hashedParts)) {
          const { start, end } = partRange(hashedParts);
          await hashRange(handle, hash, buffer, start, end);
          hashedParts++;
        }
      });
    };
    let saving: Promise<void> = Promise.resolve();
    const saveState = () => {
      const snapshot: PartialState = { ...expected, done: [...done].sort((a, b) => a - b) };
      saving = saving.then(async () => {
        await writeFile(`${statePath}.tmp`, JSON.stringify(snapshot));
        await rename(`${statePath}.tmp`, statePath);
      });
      return saving;
    };

    advanceHash();
    const missing = Array.from({ length: count }, (_, index) => index).filter((index) => !done.has(index));
    try {
      await mapLimit(missing, request.transfer.concurrency, async (index) => {
        request.signal?.throwIfAborted();
        const { start, end } = partRange(index);
        const { body } = await storage.get(request.key, {
          ifMatch: info.etag,
          ...(count > 1 ? { range: { start, end: end - 1 } } : {}),
          ...(request.signal ? { signal: request.signal } : {}),
        });
        // Network chunks are small: gather about 1 MiB per positional write.
        let position = start;
        let pending: Buffer[] = [];
        let pendingBytes = 0;
        const flush = async () => {
          if (pendingBytes === 0) return;
          await handle.writev(pending, position);
          position += pendingBytes;
          moved += pendingBytes;
          pending = [];
          pendingBytes = 0;
          request.onProgress?.(moved, size);
        };
        for await (const chunk of body as AsyncIterable<Buffer>) {
          if (position + pendingBytes + chunk.length > end) throw shortRead(request.key);
          pending.push(chunk);
          pendingBytes += chunk.length;
          if (pendingBytes >= writeBlock) await flush();
        }
        await flush();
        if (position !== end) throw shortRead(request.key);
        done.add(index);
        await saveState();
        advanceHash();
      });
    } catch (error) {
      await saving.catch(() => undefined);
      if (isWharfError(error, "PRECONDITION_FAILED")) await discardPartial(path);
      throw error;
    }
    await hashing;
    // No fsync of the whole file (as aws s3 cp, curl and tychoreg): it cost seconds per GiB. The
    // sha256 above was checked on the bytes written, and the rename only ever shows a whole file.
    return { sha256: hash.digest("hex"), resumedBytes };
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

async function hashRange(
  handle: FileHandle,
  hash: ReturnType<typeof createHash>,
  buffer: Buffer,
  start: number,
  end: number,
): Promise<void> {
  for (let position = start; position < end; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, end - position), position);
    if (bytesRead === 0) throw new WharfError("INTERNAL", "partial file shrank while downloading");
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
}

function shortRead(key: string): WharfError {
  return new WharfError("UNAVAILABLE", `The store returned a body of the wrong length for ${key}; try again`);
}
