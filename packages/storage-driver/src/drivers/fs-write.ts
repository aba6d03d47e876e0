import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";

/** Bytes gathered before one `writev` (a network body arrives in 16-64 KiB chunks). */
const BATCH_BYTES = 1 << 20;
/** Unsynced bytes after which a background `fdatasync` starts, so the final fsync finds little left. */
const SYNC_EVERY = 32 << 20;

export interface WriteFileOptions {
  /** fsync before the file is closed. */
  readonly flush: boolean;
  /**
   * The file will be fsynced before it is used (here or by the caller): flush written data to the
   * disk in the background while the body still arrives, so that fsync waits for the last few MiB,
   * not the whole file.
   */
  readonly durable: boolean;
}

/**
 * Writes `source` to a new file at `path` (created exclusively), gathering chunks into batches of
 * about 1 MiB so each trip through libuv's thread pool moves a batch, not a 64 KiB socket read: every
 * trip costs two thread wake-ups, and on a 2-core VM 16,000 trips per GiB were most of an upload's
 * CPU. One batch is written while the next is gathered, and the source is read no faster than the
 * disk takes it, so memory stays at about two batches.
 */
export async function writeNewFile(
  path: string,
  source: AsyncIterable<Buffer>,
  options: WriteFileOptions,
): Promise<void> {
  const handle = await open(path, "wx");
  let writing: Promise<void> | undefined;
  let syncing: Promise<void> | undefined;
  let position = 0;
  let synced = 0;
  try {
    let batch: Buffer[] = [];
    let batchBytes = 0;
    const submit = async () => {
      // One write at a time: the kernel serialises a file's writes anyway.
      if (writing) await writing;
      const buffers = batch;
      const at = position;
      position += batchBytes;
      const end = position;
      batch = [];
      batchBytes = 0;
      writing = writeAll(handle, buffers, at).then(() => {
        if (options.durable && !syncing && end - synced >= SYNC_EVERY) {
          syncing = handle.datasync().then(
            () => {
              synced = end;
              syncing = undefined;
            },
            () => {
              // The final fsync reports a disk error; this early one only saves time.
              syncing = undefined;
            },
          );
        }
      });
      // Observed by the next submit or the final await; never unhandled meanwhile.
      writing.catch(() => {});
    };
    for await (const chunk of source) {
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes >= BATCH_BYTES) await submit();
    }
    if (batchBytes > 0) await submit();
    await writing;
    await syncing;
    if (options.flush) await handle.sync();
  } finally {
    // A failed body still leaves a write or sync in flight on this handle: close after them.
    await writing?.catch(() => {});
    await syncing;
    await handle.close();
  }
}

/** `writev` until every byte is written (a regular file takes all of it unless the disk is full). */
async function writeAll(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let at = position;
  let rest = buffers;
  for (;;) {
    const { bytesWritten } = await handle.writev(rest, at);
    at += bytesWritten;
    let skip = bytesWritten;
    while (rest.length > 0 && skip >= rest[0]!.length) {
      skip -= rest[0]!.length;
      rest = rest.slice(1);
    }
    if (rest.length === 0) return;
    if (bytesWritten === 0) throw Object.assign(new Error("write made no progress"), { code: "EIO" });
    rest = [rest[0]!.subarray(skip), ...rest.slice(1)];
  }
}
