import { createPresignedPost, type PostPolicyCondition } from "@wharf/s3-signing";

/** Where POST forms go and who signs them. */
export interface FormTarget {
  /** The form's action URL (`upload_url`). */
  readonly url: string;
  /** The bucket the policy names. */
  readonly bucket: string;
  /** Prepended to every driver key to get the bucket key (the storage URL's prefix). */
  readonly keyPrefix: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export interface FormFile {
  /** Driver key (without the storage prefix). */
  readonly key: string;
  readonly length: number;
  readonly md5: string;
  readonly type: string;
  readonly acl: "public-read" | "private";
}

/** The README's `upload_query`: flat string fields, lower-case names as boto3 emitted them. */
export type UploadQuery = Record<string, string>;

/**
 * A presigned POST form binding the exact key, `content-length-range` equal to the declared length,
 * `Content-MD5`, `Content-Type` and `acl`. `redirect`, when given, becomes a signed
 * `success_action_redirect` so the client lands on bitstore's verification after the upload.
 */
export function buildUploadForm(
  target: FormTarget,
  file: FormFile,
  options: { expiresIn: number; now?: Date; redirect?: string },
): { upload_url: string; upload_query: UploadQuery } {
  const fields: Record<string, string> = {
    acl: file.acl,
    "Content-MD5": file.md5,
    "Content-Type": file.type,
  };
  if (options.redirect !== undefined) fields.success_action_redirect = options.redirect;
  const conditions: PostPolicyCondition[] = [["content-length-range", file.length, file.length]];
  const post = createPresignedPost({
    url: target.url,
    bucket: target.bucket,
    key: `${target.keyPrefix}${file.key}`,
    fields,
    conditions,
    expiresIn: options.expiresIn,
    credentials: target.credentials,
    region: target.region,
    ...(options.now ? { now: options.now } : {}),
  });
  const f = post.fields;
  const query: UploadQuery = {
    "Content-MD5": file.md5,
    "Content-Type": file.type,
    acl: file.acl,
    key: f.key as string,
    policy: f.Policy as string,
    "x-amz-algorithm": f["X-Amz-Algorithm"] as string,
    "x-amz-credential": f["X-Amz-Credential"] as string,
    "x-amz-date": f["X-Amz-Date"] as string,
    "x-amz-signature": f["X-Amz-Signature"] as string,
  };
  if (options.redirect !== undefined) query.success_action_redirect = options.redirect;
  return { upload_url: post.url, upload_query: query };
}
