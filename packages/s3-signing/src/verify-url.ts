import { hash, timingSafeEqual } from "node:crypto";
import { parseAmzDate, toEpochMs } from "./dates.ts";
import { s3Error } from "./errors.ts";
import { getHeader, type HeaderSource } from "./headers.ts";
import { MAX_EXPIRES_IN } from "./presign-url.ts";
import { getSigningKey } from "./signing-key.ts";
import { canonicalHeaderValue, decodeComponent, escapeUri } from "./uri.ts";

export interface VerifyPresignedUrlInput {
  readonly method: string;
  /** The request target: absolute (`http://host/b/k?…`) or origin-form (`/b/k?…`, then `host` comes from the headers). */
  readonly url: string;
  readonly headers?: HeaderSource;
  readonly now?: Date | number;
  /** The secret for an access key id, or `undefined` when the key is unknown. */
  readonly getSecret: (accessKeyId: string) => string | undefined;
  /** When set, the credential scope must name this region (Ceph accepts any). */
  readonly region?: string;
  /** When set, the credential scope must name this service (Ceph accepts any). */
  readonly service?: string;
  /** When set (decoded, e.g. `/bucket/`), the path must start with it and `key` is the rest. */
  readonly pathPrefix?: string;
}

export interface VerifiedUrl {
  readonly accessKeyId: string;
  readonly method: string;
  readonly host: string;
  /** The decoded path, starting with `/`. */
  readonly path: string;
  /** The decoded path without `pathPrefix` (or without the leading `/`). */
  readonly key: string;
  readonly region: string;
  readonly service: string;
  readonly signedAt: Date;
  readonly expiresAt: Date;
  /** Signed header names (lower case) and the values the request carried. Includes `host`. */
  readonly signedHeaders: Readonly<Record<string, string>>;
  /** Decoded query parameters other than the `X-Amz-*` authentication ones. */
  readonly query: Readonly<Record<string, string>>;
  readonly sessionToken?: string;
  /** The hex SHA-256 the body must have, when the URL signed one instead of `UNSIGNED-PAYLOAD`. */
  readonly payloadSha256?: string;
  /** Signed `content-type`, `content-length`, `content-md5`, `x-amz-checksum-sha256` to enforce on the body. */
  readonly contentType?: string;
  readonly contentLength?: number;
  readonly contentMd5?: string;
  readonly checksumSha256?: string;
}

const AUTH_PARAMS = new Set([
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Signature",
  "X-Amz-Security-Token",
  "X-Amz-Content-Sha256",
]);
const HEX_SIGNATURE = /^[0-9a-f]{64}$/;
const SIGNED_HEADER_LIST = /^[a-z0-9!#$%&'*+.^_`|~-]+(?:;[a-z0-9!#$%&'*+.^_`|~-]+)*$/;

/**
 * Checks a SigV4 query-signed request (a presigned URL) as S3 would: parameters, credential
 * scope, access key, expiry, then the signature (compared in constant time).
 *
 * Throws `WharfError` `PERMISSION_DENIED` with `details.s3Code` as Ceph RGW answers:
 * `AccessDenied` (malformed or missing parameters, expired; checked before the key),
 * `InvalidAccessKeyId`, `SignatureDoesNotMatch`; and `details.reason` (`malformed`, `expired`,
 * `unknown-key`, `signature`, `prefix`) to tell them apart.
 *
 * @example
 * const verified = verifyPresignedUrl({ method: req.method, url: req.url, headers: req.headers,
 *   getSecret: (id) => secrets.get(id), pathPrefix: "/uploads/" });
 */
export function verifyPresignedUrl(input: VerifyPresignedUrlInput): VerifiedUrl {
  const { path: rawPath, query: rawQuery, host } = splitTarget(input.url, input.headers);
  const params = parseQuery(rawQuery);
  const param = (name: string) => params.find((p) => p.name === name)?.value;

  if (param("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256") {
    throw queryError("X-Amz-Algorithm must be AWS4-HMAC-SHA256");
  }
  const credential = param("X-Amz-Credential");
  const amzDate = param("X-Amz-Date");
  const expires = param("X-Amz-Expires");
  const signedHeaderList = param("X-Amz-SignedHeaders");
  const signature = param("X-Amz-Signature");
  if (
    credential === undefined ||
    amzDate === undefined ||
    expires === undefined ||
    signedHeaderList === undefined ||
    signature === undefined
  ) {
    throw queryError(
      "the query must carry X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature",
    );
  }
  const scope = credential.split("/");
  const [accessKeyId, shortDate, region, service, terminator] = scope as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (
    scope.length !== 5 ||
    terminator !== "aws4_request" ||
    accessKeyId === "" ||
    !isScopeName(region) ||
    !isScopeName(service)
  ) {
    throw queryError("X-Amz-Credential must be <key>/<yyyymmdd>/<region>/<service>/aws4_request");
  }
  if (input.region !== undefined && region !== input.region) {
    throw queryError(`the credential scope names region ${region}; expecting ${input.region}`);
  }
  if (input.service !== undefined && service !== input.service) {
    throw queryError(`the credential scope names service ${service}; expecting ${input.service}`);
  }
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined) throw queryError("X-Amz-Date must be yyyymmddThhmmssZ");
  const expiresIn = /^\d{1,7}$/.test(expires) ? Number(expires) : Number.NaN;
  if (!(expiresIn >= 0 && expiresIn <= MAX_EXPIRES_IN)) {
    throw queryError(`X-Amz-Expires must be from 0 to ${MAX_EXPIRES_IN} seconds`);
  }
  const signedNames = signedHeaderList.split(";");
  if (!SIGNED_HEADER_LIST.test(signedHeaderList) || !signedNames.includes("host")) {
    throw queryError("X-Amz-SignedHeaders must be a ;-separated list of lower-case names including host");
  }

  const expiresAt = signedAt + expiresIn * 1000;
  if (toEpochMs(input.now) > expiresAt) {
    throw s3Error("AccessDenied", "the presigned URL has expired", { accessKeyId, reason: "expired" });
  }
  const secret = input.getSecret(accessKeyId);
  if (secret === undefined) {
    throw s3Error("InvalidAccessKeyId", "the access key id does not exist", {
      accessKeyId,
      reason: "unknown-key",
    });
  }
  if (amzDate.slice(0, 8) !== shortDate)
    throw mismatch(accessKeyId, "the credential scope date is not X-Amz-Date's");

  const signedHeaders: Record<string, string> = {};
  let canonicalHeaders = "";
  for (const name of signedNames) {
    const value = name === "host" ? host : getHeader(input.headers, name);
    if (value === undefined) throw mismatch(accessKeyId, `signed header ${name} is missing`);
    signedHeaders[name] = value;
    canonicalHeaders += `${name}:${canonicalHeaderValue(value)}\n`;
  }
  const payloadHash =
    param("X-Amz-Content-Sha256") ?? getHeader(input.headers, "x-amz-content-sha256") ?? "UNSIGNED-PAYLOAD";
  const canonicalRequest = `${input.method.toUpperCase()}\n${canonicalPath(rawPath)}\n${canonicalQuery(params)}\n${canonicalHeaders}\n${signedHeaderList}\n${payloadHash}`;
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${shortDate}/${region}/${service}/aws4_request\n${hash("sha256", canonicalRequest, "hex")}`;
  const expected = getSigningKey(secret, shortDate, region, service).signAscii(stringToSign);
  if (
    !HEX_SIGNATURE.test(signature) ||
    !timingSafeEqual(Buffer.from(expected, "latin1"), Buffer.from(signature, "latin1"))
  ) {
    throw mismatch(accessKeyId, "the request signature does not match");
  }

  const path = decodePath(rawPath);
  const query: Record<string, string> = {};
  for (const { name, value } of params) if (!AUTH_PARAMS.has(name)) query[name] = value;
  const sessionToken = param("X-Amz-Security-Token");
  const contentLength = signedHeaders["content-length"];
  const checksumSha256 = signedHeaders["x-amz-checksum-sha256"] ?? query["x-amz-checksum-sha256"];
  return {
    accessKeyId,
    method: input.method.toUpperCase(),
    host,
    path,
    key: keyOf(path, input.pathPrefix, accessKeyId),
    region,
    service,
    signedAt: new Date(signedAt),
    expiresAt: new Date(expiresAt),
    signedHeaders,
    query,
    ...(sessionToken !== undefined && { sessionToken }),
    ...(payloadHash !== "UNSIGNED-PAYLOAD" && { payloadSha256: payloadHash }),
    ...(signedHeaders["content-type"] !== undefined && { contentType: signedHeaders["content-type"] }),
    ...(contentLength !== undefined && { contentLength: Number(contentLength) }),
    ...(signedHeaders["content-md5"] !== undefined && { contentMd5: signedHeaders["content-md5"] }),
    ...(checksumSha256 !== undefined && { checksumSha256 }),
  };
}

interface QueryParam {
  readonly name: string;
  readonly value: string;
}

function splitTarget(
  url: string,
  headers: HeaderSource | undefined,
): { path: string; query: string; host: string } {
  let rest = url;
  let host = getHeader(headers, "host");
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/.exec(url);
  if (scheme !== null) {
    host ??= scheme[1];
    rest = url.slice(scheme[0].length);
  }
  if (host === undefined || host === "") throw queryError("the request has no Host");
  const hashAt = rest.indexOf("#");
  if (hashAt !== -1) rest = rest.slice(0, hashAt);
  const queryAt = rest.indexOf("?");
  const path = (queryAt === -1 ? rest : rest.slice(0, queryAt)) || "/";
  return { path, query: queryAt === -1 ? "" : rest.slice(queryAt + 1), host };
}

function parseQuery(raw: string): QueryParam[] {
  const params: QueryParam[] = [];
  if (raw === "") return params;
  for (const pair of raw.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = decodeComponent(eq === -1 ? pair : pair.slice(0, eq), true);
    const value = eq === -1 ? "" : decodeComponent(pair.slice(eq + 1), true);
    if (name === undefined || value === undefined)
      throw queryError("malformed percent-encoding in the query");
    params.push({ name, value });
  }
  return params;
}

function canonicalQuery(params: readonly QueryParam[]): string {
  const encoded: [string, string][] = [];
  for (const { name, value } of params)
    if (name !== "X-Amz-Signature") encoded.push([escapeUri(name), escapeUri(value)]);
  encoded.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return encoded.map(([name, value]) => `${name}=${value}`).join("&");
}

/** S3 signs the path URI-encoded once, segment by segment, without normalising `.`/`..`/`//`. */
function canonicalPath(rawPath: string): string {
  return rawPath
    .split("/")
    .map((segment) => {
      const decoded = decodeComponent(segment, false);
      if (decoded === undefined) throw queryError("malformed percent-encoding in the path");
      return escapeUri(decoded);
    })
    .join("/");
}

function decodePath(rawPath: string): string {
  return rawPath
    .split("/")
    .map((segment) => decodeComponent(segment, false) as string)
    .join("/");
}

function keyOf(path: string, prefix: string | undefined, accessKeyId: string): string {
  if (prefix === undefined) return path.slice(1);
  if (!path.startsWith(prefix)) {
    throw s3Error("AccessDenied", "the URL is outside the served prefix", { accessKeyId, reason: "prefix" });
  }
  return path.slice(prefix.length);
}

function isScopeName(value: string): boolean {
  return /^[a-z0-9-]+$/.test(value);
}

/** Ceph answers malformed query authentication with 403 AccessDenied, as if the request were anonymous. */
function queryError(message: string) {
  return s3Error("AccessDenied", message, { reason: "malformed" });
}

function mismatch(accessKeyId: string, message: string) {
  return s3Error("SignatureDoesNotMatch", message, { accessKeyId, reason: "signature" });
}
