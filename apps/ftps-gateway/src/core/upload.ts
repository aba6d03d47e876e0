import { Readable } from "node:stream";
import { heedErrors, type StorageDriver } from "@wharf/storage-driver";
import type { PartPool } from "./part-pool.ts";
import { type AbortRetrier, uploadInParts } from "./part-upload.ts";

/**
 * What happens on upload, for FTP's STOR and APPE and SFTP's OPEN, WRITE…, CLOSE alike:
 *
 * 1. The front-end refuses read-only users and checks the target before any byte comes
 *    (`vfs.checkWritable`: FTP before its 150, SFTP at OPEN).
 * 2. It turns its protocol's bytes into one in-order stream: FTP the data connection, its EOF held
 *    back until the control connection is known alive (ftp/transfer.ts `uploadBody`); SFTP the
 *    WRITEs, out-of-order ones held in a bounded window (sftp/upload-writer.ts).
 * 3. `vfs.write` names the key and calls `Uploader.write` here: a resume (REST + STOR, APPE, SFTP
 *    `reput`) sends the kept first bytes of the old file and then the new ones, as one new whole
 *    object. Stores that take parts with their length (S3, `preferredWriteBufferBytes`) get a
 *    multipart upload through the part buffers every session of both protocols shares
 *    (part-upload.ts, part-pool.ts): while none is free, reading stops and the client is pushed
 *    back. Other stores (fs) take the stream with `driver.put`.
 * 4. Nothing is visible unless the whole stream arrived: a failure, an abort or a client gone
 *    destroys the stream, and a started multipart upload is aborted (retried in the background).
 * 5. The front-end answers in its terms (226, 426, 4xx/5xx; an SSH status) and counts the bytes
 *    in `ftps_gateway_transfer_bytes_total{protocol,direction="upload"}`.
 */
export interface Uploader {
  /**
   * Stores `body` at `key` atomically. With `offset` > 0 the first `offset` bytes of the existing
   * object are kept and `body` continues from there, so a failed resume leaves the old file as it was.
   */
  write(key: string, body: Readable, offset: number, signal?: AbortSignal): Promise<void>;
}

/** Part buffers shared by every upload of the process, for stores that take parts with their length. */
export interface PartBuffers {
  readonly pool: PartPool;
  /** Most buffers one upload holds (`FTP_UPLOAD_BUFFERS_PER_SESSION`). */
  readonly perUpload: number;
  /** Aborts of failed multipart uploads, retried in the background. */
  readonly aborts: AbortRetrier;
}

export function createUploader(options: { driver: StorageDriver; partBuffers?: PartBuffers }): Uploader {
  const { driver, partBuffers } = options;
  const store = (key: string, body: Readable, signal?: AbortSignal): Promise<void> =>
    partBuffers
      ? uploadInParts(key, body, {
          driver,
          pool: partBuffers.pool,
          partsPerUpload: partBuffers.perUpload,
          abandon: partBuffers.aborts.abandon,
          ...(signal ? { signal } : {}),
        })
      : driver.put(key, body, { ...(signal ? { signal } : {}) }).then(() => undefined);
  return {
    async write(key, body, offset, signal) {
      let input: Readable = body;
      if (offset > 0) {
        const existing = await driver.get(key, { range: { start: 0, end: offset - 1 }, signal });
        input = concatStreams(existing.body, body);
      }
      await store(key, input, signal);
    },
  };
}

/**
 * `first`'s bytes, then `second`'s. `second` (the client's upload) is not read while `first` is
 * copied, so its failure then is heeded here and met when its turn comes; both are destroyed when
 * the result ends, fails or is destroyed.
 */
function concatStreams(first: Readable, second: Readable): Readable {
  heedErrors(second);
  return Readable.from(
    (async function* () {
      try {
        yield* first;
        yield* second;
      } finally {
        first.destroy();
        second.destroy();
      }
    })(),
    { objectMode: false, highWaterMark: 1 << 20 },
  );
}
