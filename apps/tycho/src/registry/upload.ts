import { createReadStream } from "node:fs";
import type { MultipartPart, ObjectInfo, StorageDriver } from "@wharf/storage-driver";
import { mapLimit } from "./pool.ts";
import { type ProgressListener, partSizeFor, type TransferSettings } from "./transfer.ts";

export interface UploadRequest {
  readonly key: string;
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly transfer: TransferSettings;
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

/** File reads of 1 MiB: with the 64 KiB default a push spent half again as much CPU per part. */
const highWaterMark = 1024 * 1024;

/**
 * Uploads a local file as a create-only object: one conditional put for small files, a parallel
 * multipart upload (aborted on any failure) for large ones when the store supports it.
 */
export async function uploadFile(storage: StorageDriver, request: UploadRequest): Promise<ObjectInfo> {
  const partSize = partSizeFor(request.size, request.transfer);
  if (request.size <= partSize || !storage.capabilities.multipart) {
    const info = await storage.put(request.key, createReadStream(request.path, { highWaterMark }), {
      size: request.size,
      sha256: request.sha256,
      ifNoneMatch: "*",
      contentType: "application/octet-stream",
      metadata: request.metadata,
      ...(request.signal ? { signal: request.signal } : {}),
    });
    request.onProgress?.(request.size, request.size);
    return info;
  }
  return uploadMultipart(storage, request, partSize);
}

async function uploadMultipart(
  storage: StorageDriver,
  request: UploadRequest,
  partSize: number,
): Promise<ObjectInfo> {
  const uploadId = await storage.createMultipart(request.key, {
    ifNoneMatch: "*",
    contentType: "application/octet-stream",
    metadata: request.metadata,
  });
  const count = Math.ceil(request.size / partSize);
  const numbers = Array.from({ length: count }, (_, index) => index + 1);
  let sent = 0;
  try {
    const parts: MultipartPart[] = await mapLimit(
      numbers,
      request.transfer.concurrency,
      async (partNumber) => {
        request.signal?.throwIfAborted();
        const start = (partNumber - 1) * partSize;
        const end = Math.min(start + partSize, request.size);
        const body = createReadStream(request.path, { start, end: end - 1, highWaterMark });
        const part = await storage.uploadPart(request.key, uploadId, partNumber, body, {
          size: end - start,
          ...(request.signal ? { signal: request.signal } : {}),
        });
        sent += end - start;
        request.onProgress?.(sent, request.size);
        return part;
      },
    );
    return await storage.completeMultipart(request.key, uploadId, parts);
  } catch (error) {
    await storage.abortMultipart(request.key, uploadId).catch(() => undefined);
    throw error;
  }
}
