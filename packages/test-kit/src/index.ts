export { createTestContainer, type TestContainer } from "./azure.ts";
export { freePort, type TempDir, tempDir } from "./fs.ts";
export { azureEnv, ldapEnv, registryEnv, s3Env, wharfServices } from "./inject.ts";
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
export type { AzureEnv, LdapEnv, RegistryEnv, S3Env, ServiceOrigin, WharfServices } from "./types.ts";
