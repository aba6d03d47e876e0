import { createHash, type Hash } from "node:crypto";
import { Readable, Stream, Transform, type TransformCallback } from "node:stream";
import { WharfError } from "@wharf/errors";
import type { BodyInput, FillableBody } from "./types.ts";

/** Whether `body` is a Readable that can also fill buffers itself (`FillableBody`). */
export function isFillable(body: unknown): body is Readable & FillableBody {
  return body instanceof Readable && typeof (body as Partial<FillableBody>).fill === "function";
}

const ignore = () => {};

/**
 * Makes a stream's errors heard for as long as it lives, and returns it. For every body a driver
 * takes or hands out: a body may fail while nobody reads it (before the driver starts reading, after
 * it stopped, or when an abort destroys it), and one unheard `'error'` ends the process for every
 * user. Readers still get each error (`pipeline`, `for await`, their own listener) and `errored`
 * keeps it; anything else passes through unchanged.
 *
 * @example
 * await driver.put(key, heedErrors(upload)); // an error before the driver reads it is kept, not thrown
 */
export function heedErrors<T>(body: T): T {
  if (body instanceof Stream && !body.listeners("error").includes(ignore)) body.on("error", ignore);
  return body;
}

/** Any accepted body as a Node stream of Buffers. */
export function toReadable(body: BodyInput): Readable {
  const bytes = inMemory(body);
  if (bytes) return Readable.from([bytes]);
  if (body instanceof Readable) return body;
  return Readable.from(body as AsyncIterable<Uint8Array>);
}

/** A body held in memory as a Buffer (no copy), any other as a Node stream of Buffers. */
export function toBufferOrReadable(body: BodyInput): Buffer | Readable {
  return inMemory(body) ?? toReadable(body);
}

function inMemory(body: BodyInput): Buffer | undefined {
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.length);
  return undefined;
}

/**
 * Reads a whole body into memory. For small objects and tests; fails with `PAYLOAD_TOO_LARGE`
 * beyond `maxBytes` (default 64 MiB). The result is a copy the caller owns, unless `copy: false`:
 * then a body that is one buffer (or a stream of one chunk) comes back as a view of that memory,
 * for a caller that is done with it before the body's owner reuses it (a part sent to S3).
 *
 * @example
 * const text = (await readAll((await driver.get("a.txt")).body)).toString("utf8");
 */
export async function readAll(
  body: BodyInput,
  options: { maxBytes?: number; copy?: boolean } = {},
): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const copy = options.copy ?? true;
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of toReadable(body)) {
    const bytes = chunk as string | Uint8Array;
    let buffer: Buffer;
    if (typeof bytes === "string") buffer = Buffer.from(bytes);
    else buffer = copy ? Buffer.from(bytes) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    total += buffer.length;
    if (total > maxBytes) throw new WharfError("PAYLOAD_TOO_LARGE", `body exceeds ${maxBytes} bytes`);
    chunks.push(buffer);
  }
  // Buffer.concat copies even a single chunk: 2 extra copies of every 5-64 MiB part otherwise.
  if (!copy && chunks.length === 1) return chunks[0]!;
  return Buffer.concat(chunks, total);
}

/** Which digests a `DigestingStream` computes; both by default. */
export interface DigestChoice {
  readonly md5?: boolean;
  readonly sha256?: boolean;
}

/** A pass-through that counts bytes and computes md5 (the etag) and sha256 on the way. */
export class DigestingStream extends Transform {
  readonly #md5: Hash | undefined;
  readonly #sha256: Hash | undefined;
  #size = 0;
  readonly #limit: number | undefined;
  readonly #verify: { size?: number; sha256?: string } | undefined;
  #digests: { md5?: string; sha256?: string } | undefined;

  /**
   * `limit`: fail as soon as more bytes arrive. `verify`: check size and sha256 before the stream
   * ends, so a consumer (an upload) never sees a clean end for a bad body. `digests`: leave out a
   * digest nobody needs (sha256 is always computed when `verify.sha256` is given).
   */
  constructor(
    options: { limit?: number; verify?: { size?: number; sha256?: string }; digests?: DigestChoice } = {},
  ) {
    super();
    this.#limit = options.limit;
    this.#verify = options.verify;
    const wanted = options.digests ?? {};
    if (wanted.md5 ?? true) this.#md5 = createHash("md5");
    if ((wanted.sha256 ?? true) || options.verify?.sha256 !== undefined) this.#sha256 = createHash("sha256");
  }

  override _flush(callback: TransformCallback): void {
    if (!this.#verify) {
      callback();
      return;
    }
    try {
      checkBody({ size: this.#size, sha256: this.digests().sha256 }, this.#verify);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#size += chunk.length;
    if (this.#limit !== undefined && this.#size > this.#limit) {
      callback(new WharfError("INVALID_ARGUMENT", `body is longer than the declared ${this.#limit} bytes`));
      return;
    }
    this.#md5?.update(chunk);
    this.#sha256?.update(chunk);
    callback(null, chunk);
  }

  /** Bytes seen so far. (Not `size`: lib-storage would read that as the body length.) */
  get byteCount(): number {
    return this.#size;
  }

  /** After the stream ended. A digest left out by the constructor's `digests` is undefined. */
  digests(): { md5?: string; sha256?: string } {
    this.#digests ??= {
      ...(this.#md5 ? { md5: this.#md5.digest("hex") } : {}),
      ...(this.#sha256 ? { sha256: this.#sha256.digest("hex") } : {}),
    };
    return this.#digests;
  }

  /** `digests()` when both were computed (the default). */
  allDigests(): { md5: string; sha256: string } {
    const { md5, sha256 } = this.digests();
    if (md5 === undefined || sha256 === undefined) throw new Error("DigestingStream: a digest was left out");
    return { md5, sha256 };
  }
}

/** Checks a finished body against the declared size and sha256. */
export function checkBody(
  actual: { size: number; sha256?: string | undefined },
  expected: { size?: number; sha256?: string },
): void {
  if (expected.size !== undefined && actual.size !== expected.size) {
    throw new WharfError("INVALID_ARGUMENT", `body has ${actual.size} bytes, ${expected.size} were declared`);
  }
  if (expected.sha256 !== undefined && actual.sha256 !== expected.sha256.toLowerCase()) {
    throw new WharfError("CHECKSUM_MISMATCH", "body does not match the declared sha256", {
      details: { expected: expected.sha256, actual: actual.sha256 },
    });
  }
}

const sha256Pattern = /^[0-9a-fA-F]{64}$/;

/** Throws `INVALID_ARGUMENT` for malformed put options shared by all drivers. */
export function checkPutOptions(options: {
  size?: number;
  sha256?: string;
  ifMatch?: string;
  ifNoneMatch?: string;
}): void {
  if (options.size !== undefined && !(Number.isSafeInteger(options.size) && options.size >= 0)) {
    throw new WharfError("INVALID_ARGUMENT", `size must be a non-negative integer, got ${options.size}`);
  }
  if (options.sha256 !== undefined && !sha256Pattern.test(options.sha256)) {
    throw new WharfError("INVALID_ARGUMENT", "sha256 must be 64 hex digits");
  }
  if (options.ifMatch !== undefined && options.ifNoneMatch !== undefined) {
    throw new WharfError("INVALID_ARGUMENT", "ifMatch and ifNoneMatch cannot be combined");
  }
  if (options.ifNoneMatch !== undefined && options.ifNoneMatch !== "*") {
    throw new WharfError("INVALID_ARGUMENT", 'ifNoneMatch only accepts "*"');
  }
}

/** `CANCELLED` when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new WharfError("CANCELLED", "operation cancelled", { cause: signal.reason });
}

/** S3-style multipart etag: md5 of the concatenated binary part md5s, then `-N`. */
export function multipartEtag(partEtags: readonly string[]): string {
  const md5 = createHash("md5");
  for (const etag of partEtags) md5.update(Buffer.from(etag, "hex"));
  return `${md5.digest("hex")}-${partEtags.length}`;
}

/** Translates a failure while consuming a caller's body: aborts become `CANCELLED`. */
export function bodyError(error: unknown, signal?: AbortSignal): WharfError {
  if (error instanceof WharfError) return error;
  if (signal?.aborted) return new WharfError("CANCELLED", "operation cancelled", { cause: signal.reason });
  const code = (error as { code?: unknown; name?: unknown } | null)?.code;
  const name = (error as { name?: unknown } | null)?.name;
  if (
    name === "AbortError" ||
    code === "ABORT_ERR" ||
    code === "ECONNRESET" ||
    code === "ERR_STREAM_PREMATURE_CLOSE"
  ) {
    return new WharfError("CANCELLED", "the body stream was aborted", { cause: error });
  }
  return new WharfError("INTERNAL", "reading the body failed", { cause: error });
}
