import {
  type CredentialProvider,
  type Credentials,
  cacheCredentials,
  checkCredentials,
  checkScopeName,
} from "./credentials.ts";
import { formatAmzDate, formatIsoSeconds, toEpochMs } from "./dates.ts";
import { resolveBucketUrl } from "./endpoint.ts";
import { invalidArgument } from "./errors.ts";
import { getSigningKey } from "./signing-key.ts";
import { FILENAME_PLACEHOLDER } from "./uri.ts";

/**
 * One POST policy condition: `{ field: value }` (exact), `["eq", "$field", value]`,
 * `["starts-with", "$field", prefix]` or `["content-length-range", min, max]`.
 */
export type PostPolicyCondition =
  | Readonly<Record<string, string>>
  | readonly ["eq" | "starts-with", string, string]
  | readonly ["content-length-range", number, number];

export interface PresignedPostInput<
  C extends Credentials | CredentialProvider = Credentials | CredentialProvider,
> {
  readonly bucket: string;
  /** `http(s)://host[:port][/base]`; default `https://s3.<region>.amazonaws.com`. */
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
  /** The form's action URL as is, instead of resolving `endpoint` + `bucket`. */
  readonly url?: string;
  /** The exact key, or a key ending in `${filename}` (the policy then only fixes the part before it). */
  readonly key?: string;
  /** Lets the client choose any key under this prefix: same as `key: prefix + "${filename}"`. */
  readonly keyPrefix?: string;
  readonly conditions?: readonly PostPolicyCondition[];
  /** Form fields to send (each also becomes an exact condition), e.g. `acl`, `Content-Type`, `Content-MD5`. */
  readonly fields?: Readonly<Record<string, string>>;
  /** Seconds; default 3600, as the SDK. */
  readonly expiresIn?: number;
  readonly credentials: C;
  readonly region: string;
  readonly now?: Date | number;
}

export interface PresignedPost {
  /** The form's action URL. */
  readonly url: string;
  /** The form fields, in order; the file field goes last. */
  readonly fields: Record<string, string>;
}

/**
 * A SigV4 presigned POST policy, identical to `@aws-sdk/s3-presigned-post`'s `createPresignedPost`
 * for the same inputs and clock. Synchronous with plain credentials, a promise with a provider.
 *
 * @example
 * const { url, fields } = createPresignedPost({
 *   endpoint: "http://127.0.0.1:7480", forcePathStyle: true, bucket: "uploads", keyPrefix: "user-1/",
 *   conditions: [["content-length-range", 1, 10_485_760]], fields: { "Content-Type": "text/csv" },
 *   credentials, region: "us-east-1", expiresIn: 600,
 * });
 */
export function createPresignedPost(input: PresignedPostInput<Credentials>): PresignedPost;
export function createPresignedPost(input: PresignedPostInput<CredentialProvider>): Promise<PresignedPost>;
export function createPresignedPost(input: PresignedPostInput): PresignedPost | Promise<PresignedPost>;
export function createPresignedPost(input: PresignedPostInput): PresignedPost | Promise<PresignedPost> {
  const { credentials } = input;
  if (typeof credentials === "function") {
    return cacheCredentials(credentials)().then((resolved) =>
      createPostSigner({ ...input, credentials: resolved }).sign(input),
    );
  }
  return createPostSigner({ ...input, credentials: checkCredentials(credentials) }).sign(input);
}

/** What the forms of one {@link createPostSigner} share: bucket, signer, clock and lifetime. */
export type PostSignerInput = Omit<
  PresignedPostInput<Credentials>,
  "key" | "keyPrefix" | "conditions" | "fields"
>;

/** The per-form part of a {@link PresignedPostInput}. */
export type PostFormInput = Pick<PresignedPostInput, "key" | "keyPrefix" | "conditions" | "fields">;

/**
 * Signs many POST forms for one bucket at one instant: the date, credential scope, expiration and
 * signing key are worked out once, so each form costs its policy and one HMAC. Each form equals
 * {@link createPresignedPost}'s for the same inputs.
 *
 * @example
 * const signer = createPostSigner({ bucket: "uploads", credentials, region: "us-east-1", expiresIn: 600 });
 * const forms = keys.map((key) => signer.sign({ key, fields: { "Content-Type": "text/csv" } }));
 */
export function createPostSigner(input: PostSignerInput): PostSigner {
  const credentials = checkCredentials(input.credentials);
  const region = checkScopeName("region", input.region);
  const expiresIn = input.expiresIn ?? 3600;
  if (!Number.isInteger(expiresIn) || expiresIn < 1)
    throw invalidArgument("expiresIn must be a positive integer");
  if (input.bucket.length === 0) throw invalidArgument("bucket is empty");
  const now = toEpochMs(input.now);
  const amzDate = formatAmzDate(now);
  const shortDate = amzDate.slice(0, 8);
  const common: Record<string, string> = {
    bucket: input.bucket,
    "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
    "X-Amz-Credential": `${credentials.accessKeyId}/${shortDate}/${region}/s3/aws4_request`,
    "X-Amz-Date": amzDate,
    ...(credentials.sessionToken ? { "X-Amz-Security-Token": credentials.sessionToken } : {}),
  };
  const commonConditions = Object.entries(common).map(([name, value]) => exact(name, value));
  const commonSet = new Set(commonConditions);
  const commonJoined = commonConditions.join(",");
  const head = `{"expiration":${JSON.stringify(formatIsoSeconds(now + expiresIn * 1000))},"conditions":[`;
  const signingKey = getSigningKey(credentials.secretAccessKey, shortDate, region, "s3");
  const url = input.url ?? resolveBucketUrl(input, region);
  function policy(form: PostFormInput): SignedPolicy {
    const key = postKey(form);
    const body = directConditions(form, key, commonJoined) ?? dedupedConditions(form, key);
    const encoded = base64Utf8(`${head}${body}]}`);
    return { key, policy: encoded, signature: signingKey.signAscii(encoded) };
  }
  /**
   * The SDK's policy: conditions, then the fields (the common ones overriding), then the key;
   * each distinct condition once, in first-seen order.
   */
  function dedupedConditions(form: PostFormInput, key: string): string {
    const conditions: string[] = [];
    let exactGiven = false;
    for (const condition of form.conditions ?? []) {
      if (!Array.isArray(condition)) exactGiven = true;
      addOnce(conditions, conditionJson(condition));
    }
    const own = form.fields;
    const ownNames = own === undefined ? [] : Object.keys(own);
    if (own !== undefined && ownNames.some((name) => Object.hasOwn(common, name))) {
      for (const [name, value] of Object.entries({ ...own, ...common }))
        addOnce(conditions, exact(name, value));
    } else {
      for (const name of ownNames) addOnce(conditions, exact(name, own?.[name] as string));
      // The common conditions as one piece, unless one of them was already given.
      if (exactGiven && conditions.some((condition) => commonSet.has(condition))) {
        for (const condition of commonConditions) addOnce(conditions, condition);
      } else conditions.push(commonJoined);
    }
    addOnce(conditions, keyCondition(key));
    return conditions.join(",");
  }
  function rangedForms(names: readonly string[]): RangedFormPolicy {
    const quoted = names.map((name) => `{${JSON.stringify(name)}:`);
    const direct = new Set(names).size === names.length && !names.some(isReservedField);
    // Each field's last value and its JSON: most repeat from one form to the next (acl, type).
    const lastValues: (string | undefined)[] = names.map(() => undefined);
    const lastJson: string[] = names.map(() => "");
    return (key, values, min, max) => {
      if (values.length !== names.length)
        throw invalidArgument(`${names.length} field values expected, ${values.length} given`);
      if (!direct || key.length === 0 || key.endsWith(FILENAME_PLACEHOLDER) || !isSafeRange(min, max)) {
        const fields = Object.fromEntries(names.map((name, i) => [name, values[i] as string]));
        return policy({ key, fields, conditions: [["content-length-range", min, max]] });
      }
      let text = `${head}["content-length-range",${min},${max}],`;
      for (let i = 0; i < quoted.length; i++) {
        const value = values[i] as string;
        if (value !== lastValues[i]) {
          lastValues[i] = value;
          lastJson[i] = JSON.stringify(value);
        }
        text += `${quoted[i]}${lastJson[i]}},`;
      }
      const encoded = base64Utf8(`${text}${commonJoined},${exact("key", key)}]}`);
      return { key, policy: encoded, signature: signingKey.signAscii(encoded) };
    };
  }
  return {
    url,
    fields: common,
    policy,
    rangedForms,
    sign(form) {
      const signed = policy(form);
      return {
        url,
        fields: {
          ...form.fields,
          ...common,
          key: signed.key,
          Policy: signed.policy,
          "X-Amz-Signature": signed.signature,
        },
      };
    },
  };
}

/** One form's key, base64 policy and hex signature. */
export interface SignedPolicy {
  readonly key: string;
  readonly policy: string;
  readonly signature: string;
}

/** The forms of one bucket at one instant, from {@link createPostSigner}. */
export interface PostSigner {
  /** The forms' action URL. */
  readonly url: string;
  /** The fields every form carries: `bucket`, `X-Amz-Algorithm`, `-Credential`, `-Date` (and `-Security-Token`). */
  readonly fields: Readonly<Record<string, string>>;
  /** A complete form, as {@link createPresignedPost} gives it. */
  sign(form: PostFormInput): PresignedPost;
  /** Only what differs per form, for callers that lay out the fields themselves. */
  policy(form: PostFormInput): SignedPolicy;
  /**
   * {@link policy} for many forms with the same field names and one length range each: the names
   * are written out once, so a form costs its values, its base64 and one HMAC.
   *
   * @example
   * const form = signer.rangedForms(["acl", "Content-Type"]);
   * const { policy, signature } = form("uploads/a.csv", ["private", "text/csv"], 1234, 1234);
   * // the same as signer.policy({ key: "uploads/a.csv", fields: { acl: "private", "Content-Type": "text/csv" },
   * //   conditions: [["content-length-range", 1234, 1234]] })
   */
  rangedForms(names: readonly string[]): RangedFormPolicy;
}

/** One form of {@link PostSigner.rangedForms}: its exact key, the field values in order, and the byte range. */
export type RangedFormPolicy = (
  key: string,
  values: readonly string[],
  min: number,
  max: number,
) => SignedPolicy;

/**
 * {@link dedupedConditions} written straight out, for a form where no condition can repeat another:
 * at most one given condition, an array (never equal to a field's `{name: value}`), fields named
 * neither `key` nor like a common field (distinct names give distinct conditions), and an exact
 * key (a `starts-with` one could repeat the given condition). `undefined` for any other form.
 */
function directConditions(form: PostFormInput, key: string, commonJoined: string): string | undefined {
  if (key.endsWith(FILENAME_PLACEHOLDER)) return undefined;
  const given = form.conditions;
  let body = "";
  if (given !== undefined && given.length > 0) {
    const condition = given[0] as PostPolicyCondition;
    if (given.length > 1 || !Array.isArray(condition)) return undefined;
    body = `${conditionJson(condition)},`;
  }
  const own = form.fields;
  if (own !== undefined) {
    for (const name of Object.keys(own)) {
      if (isReservedField(name)) return undefined;
      body += `${exact(name, own[name] as string)},`;
    }
  }
  return `${body}${commonJoined},${exact("key", key)}`;
}

/** `key` and the fields every form carries: a field of one of these names can repeat a condition. */
function isReservedField(name: string): boolean {
  return (
    name === "key" ||
    name === "bucket" ||
    name === "X-Amz-Algorithm" ||
    name === "X-Amz-Credential" ||
    name === "X-Amz-Date" ||
    name === "X-Amz-Security-Token"
  );
}

function keyCondition(key: string): string {
  return key.endsWith(FILENAME_PLACEHOLDER)
    ? JSON.stringify(["starts-with", "$key", key.slice(0, key.lastIndexOf(FILENAME_PLACEHOLDER))])
    : exact("key", key);
}

function addOnce(conditions: string[], condition: string): void {
  if (!conditions.includes(condition)) conditions.push(condition);
}

/** A condition as `JSON.stringify` writes it; a length range of integers without the generic walk. */
function conditionJson(condition: PostPolicyCondition): string {
  if (Array.isArray(condition) && condition[0] === "content-length-range") {
    const [, min, max] = condition;
    if (isSafeRange(min, max)) return `["content-length-range",${min},${max}]`;
  }
  return JSON.stringify(condition);
}

/** Safe integers, which a template literal writes as `JSON.stringify` does (unlike `NaN` or `1e21`). */
function isSafeRange(min: number, max: number): boolean {
  return Number.isSafeInteger(min) && Number.isSafeInteger(max);
}

/**
 * Base64 of a string's UTF-8 bytes. An ASCII string (every policy whose keys and fields are ASCII)
 * goes through `btoa`, about three times as fast as a Buffer round trip.
 */
function base64Utf8(text: string): string {
  return Buffer.byteLength(text, "utf8") === text.length
    ? btoa(text)
    : Buffer.from(text, "utf8").toString("base64");
}

/** `{"name":` of the field names seen, which are few (`acl`, `Content-Type`, …). */
const quotedNames = new Map<string, string>();

/** `{"name":"value"}`, as `JSON.stringify({ [name]: value })` writes it. */
function exact(name: string, value: string): string {
  let quoted = quotedNames.get(name);
  if (quoted === undefined) {
    quoted = `{${JSON.stringify(name)}:`;
    if (quotedNames.size < 256) quotedNames.set(name, quoted);
  }
  return `${quoted}${JSON.stringify(value)}}`;
}

function postKey(input: PostFormInput): string {
  if (input.key !== undefined && input.keyPrefix !== undefined)
    throw invalidArgument("give key or keyPrefix, not both");
  if (input.keyPrefix !== undefined) return input.keyPrefix + FILENAME_PLACEHOLDER;
  if (input.key === undefined || input.key.length === 0)
    throw invalidArgument("key or keyPrefix is required");
  return input.key;
}
