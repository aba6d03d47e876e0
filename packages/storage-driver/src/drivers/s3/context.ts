import { HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { WharfError } from "@wharf/errors";
import { type KeyOptions, validatePrefix } from "../../keys.ts";
import { MAX_PARTS, S3_MULTIPART_LIMITS } from "../../parts.ts";
import type { Capabilities, ObjectInfo } from "../../types.ts";
import { translateS3Error } from "./errors.ts";
import { toInfo } from "./metadata.ts";
import type { S3DriverOptions } from "./s3.ts";

/** S3 and this driver store folder-marker keys (`photos/`). */
export const markers: KeyOptions = { folderMarker: true };

/** What every part of the s3 driver shares: the bucket, the prefix, the client, the settings. */
export interface S3Context {
  readonly options: S3DriverOptions;
  readonly bucket: string;
  /** Key prefix inside the bucket, empty or ending with `/`. */
  readonly prefix: string;
  readonly client: S3Client;
  readonly capabilities: Capabilities;
  readonly partSize: number;
  readonly queueSize: number;
  readonly maxParts: number;
  /** The bucket key of a driver key. */
  full(key: string): string;
  /** HEAD, translated. */
  head(key: string): Promise<ObjectInfo>;
  /** HEAD, undefined when there is no object. */
  exists(key: string): Promise<ObjectInfo | undefined>;
}

/** The shared part of an s3 driver sending through `client`. */
export function createS3Context(options: S3DriverOptions, client: S3Client): S3Context {
  const bucket = options.bucket;
  const prefix = options.prefix ?? "";
  if (prefix !== "") validatePrefix(prefix);
  if (prefix !== "" && !prefix.endsWith("/"))
    throw new WharfError("INVALID_ARGUMENT", "the S3 key prefix must end with /");
  const partSize = Math.max(options.partSize ?? 8 * 1024 * 1024, 5 * 1024 * 1024);
  const queueSize = Math.max(options.queueSize ?? 2, 1);
  const maxParts = Math.min(Math.max(options.maxParts ?? MAX_PARTS, 1), MAX_PARTS);
  const capabilities: Capabilities = Object.freeze({
    rangeRead: true,
    conditionalWrite: options.conditionalWrite ?? true,
    presign: true,
    presignedPost: options.presignedPost ?? true,
    multipart: true,
    multipartLimits: Object.freeze({ ...S3_MULTIPART_LIMITS, maxParts }),
    // Parts travel with their length: a writer that buffers them spares the driver a copy.
    preferredWriteBufferBytes: partSize,
    rename: false,
    folderMarkers: true,
    md5Etags: true,
  });
  const full = (key: string) => prefix + key;

  async function head(key: string): Promise<ObjectInfo> {
    try {
      return toInfo(key, await client.send(new HeadObjectCommand({ Bucket: bucket, Key: full(key) })));
    } catch (error) {
      throw translateS3Error(error, key);
    }
  }

  async function exists(key: string): Promise<ObjectInfo | undefined> {
    try {
      return await head(key);
    } catch (error) {
      if (error instanceof WharfError && error.code === "NOT_FOUND") return undefined;
      throw error;
    }
  }

  return { options, bucket, prefix, client, capabilities, partSize, queueSize, maxParts, full, head, exists };
}
