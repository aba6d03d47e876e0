import { createHash, randomBytes } from "node:crypto";
import { pipeline } from "node:stream/promises";
import type { BlobHTTPHeaders, BlockBlobClient } from "@azure/storage-blob";
import { WharfError } from "@wharf/errors";
import { bodyError, checkBody, DigestingStream, throwIfAborted, toBufferOrReadable } from "../../body.ts";
import type { BodyInput } from "../../types.ts";
import { azureErrorName, translateAzureError } from "./errors.ts";
import { encodeMetadata } from "./metadata.ts";

/** Azure's limit on the blocks of one blob. */
const MAX_BLOCKS = 50_000;
const zeroTag = Buffer.alloc(16);

/**
 * A block id: 16-byte token of its upload, 2-byte index or part number, 16-byte tag (a multipart
 * part's nonce, zeros for a put). Azure wants every block id of a blob to have the same length.
 */
export function blockId(token: Buffer, index: number, tag: Buffer = zeroTag): string {
  const raw = Buffer.alloc(34);
  token.copy(raw, 0, 0, 16);
  raw.writeUInt16BE(index, 16);
  tag.copy(raw, 18, 0, 16);
  return raw.toString("base64");
}

/** The parts of a block id, or undefined for a block some other writer named. */
export function parseBlockId(id: string): { token: Buffer; index: number; tag: Buffer } | undefined {
  const raw = Buffer.from(id, "base64");
  if (raw.length !== 34) return undefined;
  return { token: raw.subarray(0, 16), index: raw.readUInt16BE(16), tag: raw.subarray(18) };
}

/** What a put or a multipart completion applies when it commits. */
export interface CommitOptions {
  readonly contentType?: string | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  readonly ifNoneMatch?: "*" | undefined;
  readonly ifMatch?: string | undefined;
}

export const quote = (etag: string) => (etag.startsWith('"') ? etag : `"${etag}"`);
export const unquote = (etag: string | undefined) => (etag ?? "").replace(/^(W\/)?"|"$/g, "");

export function commitRequest(options: CommitOptions, sha256?: string) {
  const blobHTTPHeaders: BlobHTTPHeaders =
    options.contentType === undefined ? {} : { blobContentType: options.contentType };
  return {
    blobHTTPHeaders,
    metadata: encodeMetadata(options.metadata, sha256),
    conditions: options.ifNoneMatch
      ? { ifNoneMatch: "*" }
      : options.ifMatch !== undefined
        ? { ifMatch: quote(options.ifMatch) }
        : {},
  };
}

/** Translates a commit's failure: refusals of its conditions are `PRECONDITION_FAILED`. */
export function commitError(error: unknown, key: string, options: CommitOptions): WharfError {
  return translateAzureError(error, key, {
    ifNoneMatch: options.ifNoneMatch !== undefined,
    ifMatch: options.ifMatch !== undefined,
  });
}

export interface WriteOptions extends CommitOptions {
  readonly size?: number | undefined;
  readonly sha256?: string | undefined;
  readonly recordSha256?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly blockSize: number;
  readonly concurrency: number;
  /** Reads the blob's current etag (undefined when absent), to explain a discarded block list. */
  readonly currentEtag: () => Promise<string | undefined>;
}

export interface Written {
  readonly etag: string;
  readonly lastModified: Date;
  readonly size: number;
  readonly sha256?: string;
}

/**
 * Writes a body as a block blob, atomically: a body of at most one block goes up in one request;
 * a longer one is staged block by block (at most `concurrency` in flight, so memory stays near
 * `blockSize × (concurrency + 1)`) and becomes visible only when its block list is committed, after
 * its size and sha256 were checked. A failed body leaves only uncommitted blocks, which Azure
 * never shows and drops at the blob's next commit (or after a week).
 */
export async function writeBlob(blob: BlockBlobClient, key: string, body: BodyInput, options: WriteOptions) {
  throwIfAborted(options.signal);
  const record = options.recordSha256 ?? true;
  const input = toBufferOrReadable(body);
  if (Buffer.isBuffer(input)) {
    const sha256 =
      options.sha256 === undefined ? undefined : createHash("sha256").update(input).digest("hex");
    checkBody({ size: input.length, sha256 }, options);
    return uploadOnce(blob, key, input, options, record ? sha256 : undefined);
  }
  const digest = new DigestingStream({
    ...(options.size === undefined ? {} : { limit: options.size }),
    verify: {
      ...(options.size === undefined ? {} : { size: options.size }),
      ...(options.sha256 === undefined ? {} : { sha256: options.sha256 }),
    },
    digests: { md5: false, sha256: options.sha256 !== undefined },
  });
  // The consumer below reads `digest`; when it stops early it destroys `digest`, which ends this.
  const piped = pipeline(input, digest).catch((error: unknown) => error);
  const token = randomBytes(16);
  const ids: string[] = [];
  const inflight = new Set<Promise<void>>();
  let failure: unknown;
  const stage = (block: Buffer) => {
    if (ids.length >= MAX_BLOCKS)
      throw new WharfError("PAYLOAD_TOO_LARGE", `body needs more than ${MAX_BLOCKS} blocks`);
    const id = blockId(token, ids.length);
    ids.push(id);
    const staged: Promise<void> = blob
      .stageBlock(id, block, block.length, options.signal ? { abortSignal: options.signal } : {})
      .then(
        () => void inflight.delete(staged),
        (error: unknown) => {
          failure ??= error;
          inflight.delete(staged);
        },
      );
    inflight.add(staged);
  };
  let held: Buffer | undefined;
  let block = Buffer.allocUnsafe(options.blockSize);
  let filled = 0;
  try {
    for await (const chunk of digest as AsyncIterable<Buffer>) {
      for (let offset = 0; offset < chunk.length; ) {
        const n = Math.min(chunk.length - offset, block.length - filled);
        chunk.copy(block, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled < block.length) continue;
        // The first full block waits: if the body ends right after it, it goes up in one request.
        if (held === undefined && ids.length === 0) held = block;
        else {
          if (held) stage(held);
          held = undefined;
          stage(block);
        }
        block = Buffer.allocUnsafe(options.blockSize);
        filled = 0;
        while (inflight.size >= options.concurrency) await Promise.race(inflight);
        if (failure !== undefined) throw failure;
      }
    }
  } catch (error) {
    digest.destroy();
    await Promise.allSettled(inflight);
    throw failure === error ? translateAzureError(error, key) : bodyError(error, options.signal);
  }
  await piped;
  throwIfAborted(options.signal);
  const sha256 = options.sha256 === undefined || !record ? undefined : digest.digests().sha256;
  const size = digest.byteCount;
  if (ids.length === 0 && (held === undefined || filled === 0)) {
    return uploadOnce(blob, key, held ?? block.subarray(0, filled), options, sha256);
  }
  if (held) stage(held);
  if (filled > 0) stage(block.subarray(0, filled));
  await Promise.allSettled([...inflight]);
  if (failure !== undefined) throw translateAzureError(failure, key);
  return commitBlocks(blob, key, ids, size, options, sha256);
}

async function uploadOnce(
  blob: BlockBlobClient,
  key: string,
  data: Buffer,
  options: WriteOptions,
  sha256: string | undefined,
): Promise<Written> {
  try {
    const response = await blob.upload(data, data.length, {
      ...commitRequest(options, sha256),
      ...(options.signal ? { abortSignal: options.signal } : {}),
    });
    return written(response, data.length, sha256);
  } catch (error) {
    throw commitError(error, key, options);
  }
}

/**
 * Commits staged blocks. Azure drops a blob's uncommitted blocks whenever any writer commits it, so
 * a writer racing another on one key may find its blocks gone (`InvalidBlockList`): when its
 * condition no longer holds that is the condition's refusal; otherwise the write is `UNAVAILABLE`
 * (retry it).
 */
export async function commitBlocks(
  blob: BlockBlobClient,
  key: string,
  ids: readonly string[],
  size: number,
  options: CommitOptions & Pick<WriteOptions, "signal" | "currentEtag">,
  sha256: string | undefined,
): Promise<Written> {
  try {
    const response = await blob.commitBlockList([...ids], {
      ...commitRequest(options, sha256),
      ...(options.signal ? { abortSignal: options.signal } : {}),
    });
    return written(response, size, sha256);
  } catch (error) {
    if (azureErrorName(error) !== "InvalidBlockList") throw commitError(error, key, options);
    const current = await options.currentEtag();
    const refused =
      (options.ifNoneMatch !== undefined && current !== undefined) ||
      (options.ifMatch !== undefined && current !== unquote(options.ifMatch));
    if (refused)
      throw new WharfError("PRECONDITION_FAILED", `precondition failed at ${key}`, { cause: error });
    throw new WharfError("UNAVAILABLE", `a concurrent write to ${key} discarded this upload's blocks`, {
      cause: error,
    });
  }
}

function written(
  response: { etag?: string; lastModified?: Date },
  size: number,
  sha256: string | undefined,
): Written {
  return {
    etag: unquote(response.etag),
    lastModified: response.lastModified ?? new Date(),
    size,
    ...(sha256 === undefined ? {} : { sha256 }),
  };
}
