import { invalidArgument } from "./errors.ts";
import { escapeKeyPath, escapeUri } from "./uri.ts";

/** Where an object lives: resolved to a URL the way the AWS SDK's S3 endpoint rules do. */
export interface ObjectLocation {
  /** `http(s)://host[:port][/base]`; default `https://s3.<region>.amazonaws.com`. */
  readonly endpoint?: string;
  readonly bucket: string;
  /** The object key, unencoded. */
  readonly key: string;
  /** Always `endpoint/bucket/key`; otherwise DNS-compatible buckets become `bucket.host`. */
  readonly forcePathStyle?: boolean;
}

/** A bucket, for presigned POST: resolved like {@link ObjectLocation} without the key. */
export interface BucketLocation {
  readonly endpoint?: string;
  readonly bucket: string;
  readonly forcePathStyle?: boolean;
}

interface ParsedEndpoint {
  readonly protocol: string;
  /** Lower-case host with a non-default port. */
  readonly host: string;
  /** `""` or `/base`, never ending in `/`. */
  readonly basePath: string;
  readonly isIp: boolean;
}

/** A URL split into what SigV4 needs: the origin, the Host header, the encoded path, the raw query. */
export interface SplitUrl {
  readonly origin: string;
  readonly host: string;
  readonly path: string;
  readonly query: string;
}

const URL_PATTERN = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]+)([^?#]*)(?:\?([^#]*))?/;
const VIRTUAL_HOSTABLE_BUCKET = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const endpointCache = new Map<string, ParsedEndpoint>();

/** Splits an absolute `http(s)` URL; lower-cases scheme and host and drops a default port. */
export function splitUrl(url: string): SplitUrl {
  const match = URL_PATTERN.exec(url);
  if (match === null) throw invalidArgument(`not an absolute http(s) URL: ${url}`);
  const protocol = (match[1] as string).toLowerCase();
  if (protocol !== "http" && protocol !== "https") throw invalidArgument(`not an http(s) URL: ${url}`);
  const host = normaliseHost(protocol, match[2] as string);
  return { origin: `${protocol}://${host}`, host, path: match[3] || "/", query: match[4] ?? "" };
}

export function resolveObjectUrl(location: ObjectLocation, region: string): SplitUrl {
  if (location.key.length === 0) throw invalidArgument("object key is empty");
  const endpoint = parseEndpoint(location.endpoint, region);
  const encodedKey = escapeKeyPath(location.key);
  if (isVirtualHosted(location, endpoint)) {
    const host = `${location.bucket}.${endpoint.host}`;
    return {
      origin: `${endpoint.protocol}://${host}`,
      host,
      path: `${endpoint.basePath}/${encodedKey}`,
      query: "",
    };
  }
  return {
    origin: `${endpoint.protocol}://${endpoint.host}`,
    host: endpoint.host,
    path: `${endpoint.basePath}/${escapeUri(location.bucket)}/${encodedKey}`,
    query: "",
  };
}

/** The form-POST URL for a bucket, spelled as `@aws-sdk/s3-presigned-post` spells it. */
export function resolveBucketUrl(location: BucketLocation, region: string): string {
  const endpoint = parseEndpoint(location.endpoint, region);
  if (isVirtualHosted(location, endpoint)) {
    return `${endpoint.protocol}://${location.bucket}.${endpoint.host}${endpoint.basePath}/`;
  }
  return `${endpoint.protocol}://${endpoint.host}${endpoint.basePath}/${escapeUri(location.bucket)}`;
}

function isVirtualHosted(location: BucketLocation, endpoint: ParsedEndpoint): boolean {
  return location.forcePathStyle !== true && !endpoint.isIp && VIRTUAL_HOSTABLE_BUCKET.test(location.bucket);
}

function parseEndpoint(endpoint: string | undefined, region: string): ParsedEndpoint {
  const url = endpoint ?? `https://s3.${region}.amazonaws.com`;
  let parsed = endpointCache.get(url);
  if (parsed === undefined) {
    const split = splitUrl(url);
    if (split.query !== "") throw invalidArgument(`endpoint has a query string: ${url}`);
    const hostname = split.host.replace(/:\d+$/, "");
    parsed = {
      protocol: split.origin.slice(0, split.origin.indexOf(":")),
      host: split.host,
      basePath: split.path.replace(/\/+$/, ""),
      isIp: IPV4.test(hostname) || hostname.startsWith("["),
    };
    if (endpointCache.size > 64) endpointCache.clear();
    endpointCache.set(url, parsed);
  }
  return parsed;
}

function normaliseHost(protocol: string, authority: string): string {
  if (authority.includes("@")) throw invalidArgument("URLs with user info cannot be presigned");
  const host = authority.toLowerCase();
  if (protocol === "https" && host.endsWith(":443")) return host.slice(0, -4);
  if (protocol === "http" && host.endsWith(":80")) return host.slice(0, -3);
  return host;
}
