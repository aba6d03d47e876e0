import type { Readable } from "node:stream";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { WharfError } from "@wharf/errors";
import { heedErrors, throwIfAborted } from "../../body.ts";
import { validateKey } from "../../keys.ts";
import type { ByteRange, StorageDriver } from "../../types.ts";
import { markers, type S3Context } from "./context.ts";
import { translateS3Error } from "./errors.ts";
import { toInfo } from "./metadata.ts";

function rangeHeader(range: ByteRange): string {
  if ("suffix" in range) return `bytes=-${range.suffix}`;
  return `bytes=${range.start}-${range.end ?? ""}`;
}

/** `head` and `get` (GetObject, its range and `If-Match`). */
export function createReads(s3: S3Context): Pick<StorageDriver, "head" | "get"> {
  const { bucket, client, full, head } = s3;
  return {
    async head(key) {
      validateKey(key, markers);
      return head(key);
    },

    async get(key, getOptions = {}) {
      validateKey(key, markers);
      throwIfAborted(getOptions.signal);
      try {
        const output = await client.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: full(key),
            ...(getOptions.range ? { Range: rangeHeader(getOptions.range) } : {}),
            ...(getOptions.ifMatch === undefined ? {} : { IfMatch: `"${getOptions.ifMatch}"` }),
          }),
          getOptions.signal ? { abortSignal: getOptions.signal } : {},
        );
        const body = heedErrors(output.Body as Readable);
        const contentRange = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(output.ContentRange ?? "");
        if (getOptions.range && contentRange) {
          const range = {
            start: Number(contentRange[1]),
            end: Number(contentRange[2]),
            total: Number(contentRange[3]),
          };
          return { info: toInfo(key, output, range.total), body, range };
        }
        if (getOptions.range) {
          // The server ignored the range (e.g. an empty object): serve the whole body as the range.
          const total = output.ContentLength ?? 0;
          if (total === 0) {
            body.destroy();
            throw new WharfError("RANGE_NOT_SATISFIABLE", "range not satisfiable for an empty object");
          }
          return { info: toInfo(key, output), body, range: { start: 0, end: total - 1, total } };
        }
        return { info: toInfo(key, output), body };
      } catch (error) {
        throw translateS3Error(error, key);
      }
    },
  };
}
