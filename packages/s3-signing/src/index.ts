export type { CredentialProvider, Credentials } from "./credentials.ts";
export type { BucketLocation, ObjectLocation } from "./endpoint.ts";
export { type S3ErrorCode, s3Status } from "./errors.ts";
export type { HeaderSource } from "./headers.ts";
export {
  createPostSigner,
  createPresignedPost,
  type PostFormInput,
  type PostPolicyCondition,
  type PostSigner,
  type PostSignerInput,
  type PresignedPost,
  type PresignedPostInput,
  type RangedFormPolicy,
  type SignedPolicy,
} from "./presign-post.ts";
export {
  type AsyncPresigner,
  createPresigner,
  MAX_EXPIRES_IN,
  type Presigner,
  type PresignerOptions,
  type PresignUrlInput,
} from "./presign-url.ts";
export { createSigningKey, deriveKey, getSigningKey, type SigningKey } from "./signing-key.ts";
export { escapeKeyPath, escapeUri, FILENAME_PLACEHOLDER } from "./uri.ts";
export { type VerifiedPost, type VerifyPostPolicyInput, verifyPostPolicy } from "./verify-post.ts";
export { type VerifiedUrl, type VerifyPresignedUrlInput, verifyPresignedUrl } from "./verify-url.ts";
