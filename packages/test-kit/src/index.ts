export { type AppProcess, startAppProcess } from "./app-process.ts";
export { createTestContainer, type TestContainer } from "./azure.ts";
export { freePort, type TempDir, tempDir } from "./fs.ts";
export {
  benchFuzz,
  type FuzzFailure,
  type FuzzOptions,
  type FuzzReport,
  type FuzzSurface,
  fuzzSurface,
  runFuzzBench,
} from "./fuzz.ts";
export { type ErrorShape, expectClearHttpAnswer, hasMessage } from "./fuzz-http.ts";
export { anyJson, hostileText, mutatedJson, rawBytes, urlPiece } from "./fuzz-inputs.ts";
export { azureEnv, ldapEnv, registryEnv, s3Env, swiftS3Env, wharfServices } from "./inject.ts";
export { ldapFixture } from "./ldap-fixture.ts";
export {
  type BuiltImage,
  type BuiltRef,
  buildOciLayout,
  type Descriptor,
  type ImageSpec,
  type LayerSpec,
  type OciLayout,
  ociMediaTypes,
  type RefSpec,
  seededBytes,
} from "./oci.ts";
export { occupiedPort, type ServerProcess, spawnServer } from "./process.ts";
export {
  type SkopeoCopyOptions,
  type StartedRegistry,
  type StartRegistryOptions,
  skopeoCopy,
  startRegistry,
} from "./registry.ts";
export {
  createTestBucket,
  emptyBucket,
  type S3ClientOptions,
  s3Client,
  type TestBucket,
  uniqueBucketName,
} from "./s3.ts";
export { type CheckedServer, spawnCheckedServer } from "./server-process.ts";
export type { AzureEnv, LdapEnv, RegistryEnv, S3Env, ServiceOrigin, WharfServices } from "./types.ts";
