import { createHash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { WharfError } from "@wharf/errors";

/**
 * A pass-through that enforces what a form or presigned URL bound: the byte range and the MD5.
 * It fails the stream (so the driver's atomic put stores nothing) with a WharfError whose
 * `details.s3Code` is what S3 answers: `EntityTooLarge`, `EntityTooSmall`, `BadDigest`.
 */
export class BodyCheck extends Transform {
  readonly #md5 = createHash("md5");
  readonly #min: number;
  readonly #max: number;
  readonly #expectedMd5: string | undefined;
  #size = 0;

  constructor(options: { min?: number; max?: number; md5Base64?: string }) {
    super();
    this.#min = options.min ?? 0;
    this.#max = options.max ?? Number.POSITIVE_INFINITY;
    this.#expectedMd5 = options.md5Base64;
  }

  get size(): number {
    return this.#size;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#size += chunk.length;
    if (this.#size > this.#max) {
      callback(
        s3Failure(
          "PAYLOAD_TOO_LARGE",
          "EntityTooLarge",
          "Your proposed upload exceeds the maximum allowed size",
        ),
      );
      return;
    }
    this.#md5.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.#size < this.#min) {
      callback(
        s3Failure(
          "INVALID_ARGUMENT",
          "EntityTooSmall",
          "Your proposed upload is smaller than the minimum allowed size",
        ),
      );
      return;
    }
    if (this.#expectedMd5 !== undefined && this.#md5.digest("base64") !== this.#expectedMd5) {
      callback(
        s3Failure(
          "CHECKSUM_MISMATCH",
          "BadDigest",
          "The Content-MD5 you specified did not match what we received.",
        ),
      );
      return;
    }
    callback();
  }
}

export function s3Failure(code: WharfError["code"], s3Code: string, message: string): WharfError {
  return new WharfError(code, message, { details: { s3Code } });
}
