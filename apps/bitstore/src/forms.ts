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

/** A form as `/authorize` answers it. */
export interface UploadForm {
  readonly upload_url: string;
  readonly upload_query: UploadQuery;
}

/** Signs one file's form; see {@link createFormBuilder}. */
export interface FormBuilder {
  (file: FormFile, redirect?: string): UploadForm;
  /**
   * The same form as JSON members, `"upload_url":…,"upload_query":{…}`: byte for byte what
   * `JSON.stringify` writes of the form's two properties, without building the objects.
   * `md5Json`: `JSON.stringify(file.md5)`, when the caller has it already.
   */
  readonly members: (file: FormFile, redirect?: string, md5Json?: string) => string;
}

/**
 * `JSON.stringify` of a string, remembering the last string and its JSON: for values that repeat
 * from one file to the next, such as a type or an acl.
 */
export function lastQuoted(): (value: string) => string {
  let last: string | undefined;
  let json = "";
  return (value) => {
    if (value !== last) {
      last = value;
      json = JSON.stringify(value);
    }
    return json;
  };
}

/**
 * Signs the POST forms of one request: each binds the exact key, `content-length-range` equal to
 * the declared length, `Content-MD5`, `Content-Type` and `acl`. The date, scope and signing key are
 * worked out once for all of them. `redirect`, when given, becomes a signed `success_action_redirect`
 * so the client lands on bitstore's verification after the upload.
 */
export function createFormBuilder(
  target: FormTarget,
  options: { expiresIn: number; now?: Date },
): FormBuilder {
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
  const sign = (file: FormFile, redirect: string | undefined) => {
    const key = `${target.keyPrefix}${file.key}`;
    return redirect === undefined
      ? plain(key, [file.acl, file.md5, file.type], file.length, file.length)
      : redirected(key, [file.acl, file.md5, file.type, redirect], file.length, file.length);
  };
  const form = (file: FormFile, redirect?: string): UploadForm => {
    const signed = sign(file, redirect);
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
  // What every form of this builder shares, quoted once. The policy (base64) and the signature
  // (hex) need no escaping.
  const q = JSON.stringify;
  const opening = `"upload_url":${q(signer.url)},"upload_query":{"Content-MD5":`;
  const amz = `","x-amz-algorithm":${q(algorithm)},"x-amz-credential":${q(credential)},"x-amz-date":${q(date)},"x-amz-signature":"`;
  const type = lastQuoted();
  const acl = lastQuoted();
  const members = (file: FormFile, redirect?: string, md5Json = q(file.md5)): string => {
    const signed = sign(file, redirect);
    const text =
      `${opening}${md5Json},"Content-Type":${type(file.type)},"acl":${acl(file.acl)},"key":${q(signed.key)},` +
      `"policy":"${signed.policy}${amz}${signed.signature}"`;
    return redirect === undefined ? `${text}}` : `${text},"success_action_redirect":${q(redirect)}}`;
  };
  return Object.assign(form, { members });
}

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
): UploadForm {
  return createFormBuilder(target, options)(file, options.redirect);
}
