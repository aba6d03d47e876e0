import { hash } from "node:crypto";
import {
  type CredentialProvider,
  type Credentials,
  cacheCredentials,
  checkCredentials,
  checkScopeName,
} from "./credentials.ts";
import { createAmzDateClock, toEpochMs } from "./dates.ts";
import { type ObjectLocation, resolveObjectUrl, type SplitUrl, splitUrl } from "./endpoint.ts";
import { invalidArgument } from "./errors.ts";
import { getSigningKey, type SigningKey } from "./signing-key.ts";
import { canonicalHeaderValue, decodeComponent, escapeUri } from "./uri.ts";

export interface PresignerOptions<
  C extends Credentials | CredentialProvider = Credentials | CredentialProvider,
> {
  readonly credentials: C;
  readonly region: string;
  /** Default `s3`. */
  readonly service?: string;
}

export interface PresignUrlInput {
  readonly method: string;
  /**
   * The full object URL (path already encoded per S3 rules, as the SDK would build it), or a
   * location resolved like the SDK's S3 endpoint rules.
   */
  readonly url: string | ObjectLocation;
  /** Seconds, 1 … 604800. Default 900, as `getSignedUrl`. */
  readonly expiresIn?: number;
  /**
   * Headers the client must send, all signed (e.g. `content-type`, `content-length`,
   * `x-amz-checksum-sha256`). They stay headers: put `x-amz-*` values that should travel in the
   * URL (the SDK's "hoisting") into `query` instead.
   */
  readonly headers?: Readonly<Record<string, string | number>>;
  /** Extra query parameters to sign, unencoded (e.g. `response-content-disposition`, `partNumber`). */
  readonly query?: Readonly<Record<string, string>>;
  /**
   * The `x-id` parameter the SDK adds: by default `GetObject`, `PutObject` (`UploadPart` with
   * `uploadId` and `partNumber`), `DeleteObject` (`AbortMultipartUpload` with `uploadId`), none for
   * HEAD and others. `false` leaves it out.
   */
  readonly xId?: string | false;
  /** The signing time. Default: now. */
  readonly now?: Date | number;
}

export interface Presigner {
  /** A SigV4 query-string-signed URL, byte-identical to the SDK's `getSignedUrl` for the same request. */
  presignUrl(input: PresignUrlInput): string;
  readonly region: string;
  readonly service: string;
}

export interface AsyncPresigner {
  /** As {@link Presigner.presignUrl}, after resolving credentials from the provider (cached). */
  presignUrl(input: PresignUrlInput): Promise<string>;
  readonly region: string;
  readonly service: string;
}

export const MAX_EXPIRES_IN = 604_800;
const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
const QUERY_HEAD = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&X-Amz-Credential=";
const RESERVED_QUERY = new Set([
  "x-amz-algorithm",
  "x-amz-content-sha256",
  "x-amz-credential",
  "x-amz-date",
  "x-amz-expires",
  "x-amz-security-token",
  "x-amz-signedheaders",
  "x-amz-signature",
]);
const FORBIDDEN_HEADERS = new Set([
  "authorization",
  "x-amz-date",
  "x-amz-content-sha256",
  "x-amz-security-token",
]);

/**
 * Creates a SigV4 presigner with a per-day signing-key cache.
 *
 * @example
 * const presigner = createPresigner({ credentials: { accessKeyId, secretAccessKey }, region: "us-east-1" });
 * const url = presigner.presignUrl({
 *   method: "GET",
 *   url: { endpoint: "http://127.0.0.1:7480", bucket: "b", key: "a b.txt", forcePathStyle: true },
 *   expiresIn: 300,
 * });
 */
export function createPresigner(options: PresignerOptions<Credentials>): Presigner;
export function createPresigner(options: PresignerOptions<CredentialProvider>): AsyncPresigner;
export function createPresigner(options: PresignerOptions): Presigner | AsyncPresigner;
export function createPresigner(options: PresignerOptions): Presigner | AsyncPresigner {
  const region = checkScopeName("region", options.region);
  const service = checkScopeName("service", options.service ?? "s3");
  const clock = createAmzDateClock();
  const { credentials } = options;
  if (typeof credentials === "function") {
    const resolve = cacheCredentials(credentials);
    const states = new WeakMap<Credentials, SignerState>();
    return {
      region,
      service,
      async presignUrl(input) {
        const resolved = await resolve();
        let state = states.get(resolved);
        if (state === undefined) {
          state = createState(resolved, region, service);
          states.set(resolved, state);
        }
        return presign(state, clock, input);
      },
    };
  }
  const state = createState(checkCredentials(credentials), region, service);
  return { region, service, presignUrl: (input) => presign(state, clock, input) };
}

interface SignerState {
  readonly accessKeyId: string;
  readonly secret: string;
  readonly region: string;
  readonly service: string;
  /** `&X-Amz-Security-Token=…` or `""`. */
  readonly tokenParam: string;
  shortDate: string;
  scope: string;
  encodedCredential: string;
  key: SigningKey | undefined;
}

function createState(credentials: Credentials, region: string, service: string): SignerState {
  return {
    accessKeyId: credentials.accessKeyId,
    secret: credentials.secretAccessKey,
    region,
    service,
    tokenParam: credentials.sessionToken
      ? `&X-Amz-Security-Token=${escapeUri(credentials.sessionToken)}`
      : "",
    shortDate: "",
    scope: "",
    encodedCredential: "",
    key: undefined,
  };
}

function presign(state: SignerState, clock: (ms: number) => string, input: PresignUrlInput): string {
  const expiresIn = input.expiresIn ?? 900;
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_EXPIRES_IN) {
    throw invalidArgument(`expiresIn must be an integer from 1 to ${MAX_EXPIRES_IN} seconds`);
  }
  const method = input.method.toUpperCase();
  const longDate = clock(toEpochMs(input.now));
  const shortDate = longDate.slice(0, 8);
  let key = state.key;
  if (key === undefined || shortDate !== state.shortDate) {
    state.shortDate = shortDate;
    state.scope = `${shortDate}/${state.region}/${state.service}/aws4_request`;
    state.encodedCredential = escapeUri(`${state.accessKeyId}/${state.scope}`);
    state.key = key = getSigningKey(state.secret, shortDate, state.region, state.service);
  }
  const target: SplitUrl =
    typeof input.url === "string" ? splitUrl(input.url) : resolveObjectUrl(input.url, state.region);

  let signedHeaders = "host";
  let canonicalHeaders = `host:${target.host}\n`;
  if (input.headers !== undefined)
    [signedHeaders, canonicalHeaders] = canonicaliseHeaders(target.host, input.headers);

  const params = collectParams(method, target.query, input);
  const fixed = `${QUERY_HEAD}${state.encodedCredential}&X-Amz-Date=${longDate}&X-Amz-Expires=${expiresIn}${state.tokenParam}`;
  const signedHeadersParam = `X-Amz-SignedHeaders=${signedHeaders === "host" ? "host" : escapeUri(signedHeaders)}`;

  let canonicalQuery: string;
  let urlHead: string;
  let urlTail: string;
  if (params === undefined) {
    canonicalQuery = `${fixed}&${signedHeadersParam}`;
    urlHead = fixed;
    urlTail = signedHeadersParam;
  } else if (
    params.length === 1 &&
    params[0] !== undefined &&
    params[0].key === params[0].encodedKey &&
    params[0].key > "X-Amz-SignedHeaders"
  ) {
    const only = `${params[0].encodedKey}=${params[0].encodedValue}`;
    canonicalQuery = `${fixed}&${signedHeadersParam}&${only}`;
    urlHead = fixed;
    urlTail = `${signedHeadersParam}&${only}`;
  } else {
    ({ canonicalQuery, urlHead, urlTail } = mergeParams(fixed, signedHeadersParam, params));
  }

  const canonicalRequest = `${method}\n${target.path}\n${canonicalQuery}\n${canonicalHeaders}\n${signedHeaders}\n${UNSIGNED_PAYLOAD}`;
  const signature = key.signAscii(
    `AWS4-HMAC-SHA256\n${longDate}\n${state.scope}\n${hash("sha256", canonicalRequest, "hex")}`,
  );
  return `${target.origin}${target.path}?${urlHead}&X-Amz-Signature=${signature}&${urlTail}`;
}

interface Param {
  readonly key: string;
  readonly encodedKey: string;
  readonly encodedValue: string;
}

function collectParams(method: string, rawQuery: string, input: PresignUrlInput): Param[] | undefined {
  const xId = input.xId === undefined ? defaultXId(method, rawQuery, input.query) : input.xId;
  if (rawQuery === "" && input.query === undefined) {
    return xId === false || xId === undefined ? undefined : xIdParam(xId);
  }
  const values = new Map<string, string>();
  if (rawQuery !== "") {
    for (const pair of rawQuery.split("&")) {
      if (pair === "") continue;
      const eq = pair.indexOf("=");
      const name = decodeComponent(eq === -1 ? pair : pair.slice(0, eq), false);
      const value = eq === -1 ? "" : decodeComponent(pair.slice(eq + 1), false);
      if (name === undefined || value === undefined)
        throw invalidArgument("malformed percent-encoding in the URL query");
      values.set(name, value);
    }
  }
  if (input.query !== undefined)
    for (const [name, value] of Object.entries(input.query)) values.set(name, value);
  if (xId !== false && xId !== undefined) values.set("x-id", xId);
  const params: Param[] = [];
  for (const [name, value] of values) {
    if (RESERVED_QUERY.has(name.toLowerCase()))
      throw invalidArgument(`query parameter ${name} is set by the signer`);
    params.push({ key: name, encodedKey: escapeUri(name), encodedValue: escapeUri(value) });
  }
  return params.length === 0 ? undefined : params;
}

const xIdParams = new Map<string, Param[]>();

/** The lone `x-id` parameter, built once per operation name. */
function xIdParam(xId: string): Param[] {
  let params = xIdParams.get(xId);
  if (params === undefined) {
    params = [{ key: "x-id", encodedKey: "x-id", encodedValue: escapeUri(xId) }];
    if (xIdParams.size < 64) xIdParams.set(xId, params);
  }
  return params;
}

function defaultXId(
  method: string,
  rawQuery: string,
  query: Readonly<Record<string, string>> | undefined,
): string | undefined {
  const has = (name: string) =>
    (query !== undefined && Object.hasOwn(query, name)) ||
    new RegExp(`(?:^|&)${name}(?:=|&|$)`).test(rawQuery);
  switch (method) {
    case "GET":
      return "GetObject";
    case "PUT":
      return has("uploadId") && has("partNumber") ? "UploadPart" : "PutObject";
    case "DELETE":
      return has("uploadId") ? "AbortMultipartUpload" : "DeleteObject";
    default:
      return undefined;
  }
}

const FIXED_KEYS = [
  "X-Amz-Algorithm",
  "X-Amz-Content-Sha256",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
];

/** General case: interleave extra parameters with the signer's, sorted as the SDK sorts them. */
function mergeParams(
  fixed: string,
  signedHeadersParam: string,
  params: Param[],
): { canonicalQuery: string; urlHead: string; urlTail: string } {
  const own = fixed.split("&").map((part, index) => {
    const key = index < FIXED_KEYS.length ? (FIXED_KEYS[index] as string) : "X-Amz-Security-Token";
    return { key, encodedKey: key, encodedValue: part.slice(key.length + 1) };
  });
  const signedHeaders = {
    key: "X-Amz-SignedHeaders",
    encodedKey: "X-Amz-SignedHeaders",
    encodedValue: signedHeadersParam.slice(20),
  };
  const all = [...own, signedHeaders, ...params];
  const join = (list: Param[]) => list.map((p) => `${p.encodedKey}=${p.encodedValue}`).join("&");
  const canonical = [...all].sort((a, b) => compare(a.encodedKey, b.encodedKey));
  const byRawKey = [...all, { key: "X-Amz-Signature", encodedKey: "", encodedValue: "" }].sort((a, b) =>
    compare(a.key, b.key),
  );
  const split = byRawKey.findIndex((p) => p.key === "X-Amz-Signature");
  return {
    canonicalQuery: join(canonical),
    urlHead: join(byRawKey.slice(0, split)),
    urlTail: join(byRawKey.slice(split + 1)),
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function canonicaliseHeaders(
  host: string,
  headers: Readonly<Record<string, string | number>>,
): [string, string] {
  const entries = new Map<string, string>([["host", host]]);
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (FORBIDDEN_HEADERS.has(lower)) throw invalidArgument(`header ${lower} is set by the signer`);
    entries.set(lower, canonicalHeaderValue(String(value)));
  }
  const names = [...entries.keys()].sort();
  let canonical = "";
  for (const name of names) canonical += `${name}:${entries.get(name)}\n`;
  return [names.join(";"), canonical];
}
