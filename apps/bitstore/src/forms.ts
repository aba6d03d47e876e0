import { createPostSigner } from "@wharf/s3-signing";

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
 * Signs the POST forms of one request: each binds the exact key, `content-length-range` equal to
 * the declared length, `Content-MD5`, `Content-Type` and `acl`. The date, scope and signing key are
 * worked out once for all of them. `redirect`, when given, becomes a signed `success_action_redirect`
 * so the client lands on bitstore's verification after the upload.
 */
export function createFormBuilder(
  target: FormTarget,
  options: { expiresIn: number; now?: Date },
): (file: FormFile, redirect?: string) => { upload_url: string; upload_query: UploadQuery } {
  const signer = createPostSigner({
    url: target.url,
    bucket: target.bucket,
    expiresIn: options.expiresIn,
    credentials: target.credentials,
    region: target.region,
    ...(options.now ? { now: options.now } : {}),
  });
  const algorithm = signer.fields["X-Amz-Algorithm"] as string;
  const credential = signer.fields["X-Amz-Credential"] as string;
  const date = signer.fields["X-Amz-Date"] as string;
  const plain = signer.rangedForms(["acl", "Content-MD5", "Content-Type"]);
  const redirected = signer.rangedForms(["acl", "Content-MD5", "Content-Type", "success_action_redirect"]);
  return (file, redirect) => {
    const key = `${target.keyPrefix}${file.key}`;
    const signed =
      redirect === undefined
        ? plain(key, [file.acl, file.md5, file.type], file.length, file.length)
        : redirected(key, [file.acl, file.md5, file.type, redirect], file.length, file.length);
    const query: UploadQuery = {
      "Content-MD5": file.md5,
      "Content-Type": file.type,
      acl: file.acl,
      key: signed.key,
      policy: signed.policy,
      "x-amz-algorithm": algorithm,
      "x-amz-credential": credential,
      "x-amz-date": date,
      "x-amz-signature": signed.signature,
    };
    if (redirect !== undefined) query.success_action_redirect = redirect;
    return { upload_url: signer.url, upload_query: query };
  };
}

/** What {@link createFormBuilder} returns: signs one file's form. */
export type FormBuilder = ReturnType<typeof createFormBuilder>;

/**
 * {@link createFormBuilder} for the instant given, reusing the last builder within the same second:
 * the forms name the time to the second, so its forms are the same as a new builder's.
 */
export function cachedFormBuilders(target: FormTarget, expiresIn: number): (now: Date) => FormBuilder {
  let second = Number.NaN;
  let builder: FormBuilder | undefined;
  return (now) => {
    const current = Math.floor(now.getTime() / 1000);
    if (builder === undefined || current !== second) {
      builder = createFormBuilder(target, { expiresIn, now });
      second = current;
    }
    return builder;
  };
}

/** One form: {@link createFormBuilder} for a single file. */
export function buildUploadForm(
  target: FormTarget,
  file: FormFile,
  options: { expiresIn: number; now?: Date; redirect?: string },
): { upload_url: string; upload_query: UploadQuery } {
  return createFormBuilder(target, options)(file, options.redirect);
}
