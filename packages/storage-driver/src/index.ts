export { bodyError, heedErrors, isFillable, readAll, toReadable } from "./body.ts";
export { BufferPool } from "./buffer-pool.ts";
export { withCheckThenWrite } from "./check-then-write.ts";
export { compareKeys } from "./compare-keys.ts";
export { createFsDriver, type FsDriverOptions, type FsPresignOptions } from "./drivers/fs/fs.ts";
export { createMemoryDriver, type MemoryDriverOptions } from "./drivers/memory/memory.ts";
export type { DriverConfig, DriverRegistration, ParseContext } from "./drivers/registration.ts";
export { registerDriver, registeredDrivers } from "./drivers/registry.ts";
// The s3 driver is `@wharf/storage-driver/s3` (or `openStorage("s3://…")`), so importing this module
// does not load the AWS SDK.
export type { S3Credentials, S3DriverOptions, S3TlsOptions } from "./drivers/s3/s3.ts";
export {
  booleanOption,
  integerOption,
  invalidStorageUrl,
  optionalBoolean,
  prefixFromPath,
} from "./drivers/url-options.ts";
export { MAX_KEY_BYTES, RESERVED_SEGMENT, validateKey, validatePrefix } from "./keys.ts";
export { type ListAllEntry, listAll, listAllObjects } from "./list-all.ts";
export { checkRenamePrefixes, moveObject, movePrefix } from "./move.ts";
export {
  describeStore,
  type OpenStorageOptions,
  openStorage,
  parseStorageUrl,
  type StorageConfig,
  storageFolder,
} from "./open-storage.ts";
export { LOCAL_MULTIPART_LIMITS, MAX_OBJECT_BYTES, MAX_PARTS, S3_MULTIPART_LIMITS } from "./parts.ts";
export { handlePresignedRequest } from "./presigned-handler.ts";
export { abortStaleUploads, countStaleUploads, type StaleUploadsLog } from "./stale-uploads.ts";
export type * from "./types.ts";
export { booleanCapabilities } from "./types.ts";
export { withKeyValidation } from "./with-key-validation.ts";
