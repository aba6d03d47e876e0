import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { RESERVED_SEGMENT, validatePrefix } from "../../keys.ts";
import { pageLimit } from "../../list-page.ts";
import type { StorageDriver } from "../../types.ts";
import type { S3Context } from "./context.ts";
import { translateS3Error } from "./errors.ts";
import { unquote } from "./metadata.ts";

const reserved = `${RESERVED_SEGMENT}/`;

/** `list`: ListObjectsV2 pages, the driver's prefix cut off and the reserved folder left out. */
export function createList(s3: S3Context): Pick<StorageDriver, "list"> {
  const { bucket, client, full, prefix } = s3;
  return {
    async list(listOptions = {}) {
      if (listOptions.prefix) validatePrefix(listOptions.prefix);
      const limit = pageLimit(listOptions.limit);
      try {
        const output = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: full(listOptions.prefix ?? ""),
            MaxKeys: limit,
            ...(listOptions.delimiter ? { Delimiter: listOptions.delimiter } : {}),
            ...(listOptions.cursor ? { ContinuationToken: listOptions.cursor } : {}),
            ...(listOptions.startAfter !== undefined ? { StartAfter: full(listOptions.startAfter) } : {}),
          }),
          listOptions.signal ? { abortSignal: listOptions.signal } : {},
        );
        // Claim objects live under the reserved folder: never list them.
        const objects = (output.Contents ?? [])
          .map((object) => ({
            key: (object.Key ?? "").slice(prefix.length),
            size: object.Size ?? 0,
            etag: unquote(object.ETag),
            lastModified: object.LastModified ?? new Date(0),
          }))
          .filter((object) => !object.key.startsWith(reserved));
        const prefixes = (output.CommonPrefixes ?? [])
          .map((common) => (common.Prefix ?? "").slice(prefix.length))
          .filter((common) => !common.startsWith(reserved));
        return output.IsTruncated && output.NextContinuationToken
          ? { objects, prefixes, cursor: output.NextContinuationToken }
          : { objects, prefixes };
      } catch (error) {
        throw translateS3Error(error);
      }
    },
  };
}
