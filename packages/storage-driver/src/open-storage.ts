import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { WharfError } from "@wharf/errors";
import type { FsEtagMode, FsPresignOptions } from "./drivers/fs/fs.ts";
import type { S3Credentials, S3TlsOptions } from "./drivers/s3/s3.ts";
import type { StorageDriver } from "./types.ts";
import { withKeyValidation } from "./with-key-validation.ts";

export interface OpenStorageOptions {
  /** s3: static credentials; without them the standard AWS chain (env, profile, ECS/IMDS) is used. */
  readonly credentials?: S3Credentials;
  /** s3 over https: trusted CAs, or no certificate check (see `S3DriverOptions.tls`). */
  readonly tls?: S3TlsOptions;
  /** file: sign URLs that point at the app itself (see `handlePresignedRequest`). */
  readonly presign?: FsPresignOptions;
  /** Base for relative paths; defaults to `process.cwd()`. */
  readonly cwd?: string;
  /**
   * file: the etag mode when the URL has no `etag=` (default `"md5"`). Apps that never treat an
   * etag as a content hash pass `"version"` so writes skip hashing (see `FsDriverOptions.etag`).
   */
  readonly fsEtag?: FsEtagMode;
  /**
   * azure: where Azure's usual credential variables are read (`AZURE_STORAGE_CONNECTION_STRING`,
   * `AZURE_STORAGE_KEY`, `AZURE_STORAGE_SAS_TOKEN`, then `DefaultAzureCredential`'s); default `process.env`.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The parsed form of a storage URL. */
export type StorageConfig =
  | { readonly kind: "memory" }
  | { readonly kind: "fs"; readonly root: string; readonly fsync: boolean; readonly etag?: FsEtagMode }
  | {
      readonly kind: "s3";
      readonly bucket: string;
      readonly prefix: string;
      readonly endpoint?: string;
      readonly region?: string;
      readonly forcePathStyle: boolean;
      readonly partSize?: number;
      readonly queueSize?: number;
      /** Stated by the URL; probed at open when absent. */
      readonly conditionalWrite?: boolean;
      readonly presignedPost?: boolean;
      readonly maxParts?: number;
    }
  | {
      readonly kind: "azure";
      readonly account: string;
      readonly container: string;
      readonly prefix: string;
      /** Blob service URL; absent: `https://<account>.blob.core.windows.net`. */
      readonly endpoint?: string;
      readonly blockSize?: number;
      readonly concurrency?: number;
    };

/**
 * The store a URL names, as messages name it: `http://127.0.0.1:7480 (bucket lfs)`, `folder /srv/x`.
 * Never shows credentials (URLs carry none).
 */
export function describeStore(url: string): string {
  const config = parseStorageUrl(url);
  switch (config.kind) {
    case "s3":
      return `${config.endpoint ?? "AWS S3"} (bucket ${config.bucket})`;
    case "fs":
      return `folder ${config.root}`;
    default:
      return config.kind;
  }
}

function invalid(url: string, why: string): WharfError {
  return new WharfError("INVALID_ARGUMENT", `invalid storage URL ${JSON.stringify(redact(url))}: ${why}`);
}

function redact(url: string): string {
  return url.replace(/\/\/[^/@]*@/, "//***@");
}

function booleanParam(url: string, name: string, value: string | null, fallback: boolean): boolean {
  if (value === null) return fallback;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw invalid(url, `${name} must be true or false`);
}

/** A boolean the URL may leave out (then `undefined`: the driver finds out). */
function optionalBoolean<N extends string>(
  url: string,
  params: URLSearchParams,
  name: N,
): Partial<Record<N, boolean>> {
  const value = params.get(name);
  return value === null ? {} : ({ [name]: booleanParam(url, name, value, false) } as Record<N, boolean>);
}

function integerParam(url: string, name: string, value: string | null, min: number): number | undefined {
  if (value === null) return undefined;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < min)
    throw invalid(url, `${name} must be an integer >= ${min}`);
  return number;
}

function checkParams(url: string, params: URLSearchParams, allowed: readonly string[]): void {
  const unknown = [...new Set(params.keys())].filter((name) => !allowed.includes(name));
  if (unknown.length > 0) throw invalid(url, `unknown option(s) ${unknown.join(", ")}`);
}

/**
 * Parses a storage URL (format documented in this package's README) without opening anything.
 *
 * @example
 * parseStorageUrl("s3://bucket/apps/lfs?endpoint=http://127.0.0.1:7480&region=us-east-1");
 */
export function parseStorageUrl(url: string, options: { cwd?: string } = {}): StorageConfig {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined || (scheme.length === 1 && /^[a-z]:[\\/]/i.test(url))) {
    if (url === "") throw invalid(url, "empty");
    return { kind: "fs", root: resolve(options.cwd ?? process.cwd(), url), fsync: true };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new WharfError("INVALID_ARGUMENT", `invalid storage URL ${JSON.stringify(redact(url))}`, { cause });
  }
  if (parsed.username || parsed.password) throw invalid(url, "credentials do not belong in the URL");
  const params = parsed.searchParams;
  switch (scheme) {
    case "memory":
      checkParams(url, params, []);
      return { kind: "memory" };
    case "file": {
      checkParams(url, params, ["fsync", "etag"]);
      if (parsed.host !== "" && parsed.host !== "localhost")
        throw invalid(url, "file URLs name a local path");
      const root = fileURLToPath(new URL(`file://${parsed.pathname}`));
      if (!isAbsolute(root)) throw invalid(url, "the path must be absolute");
      const etag = params.get("etag");
      if (etag !== null && etag !== "md5" && etag !== "version")
        throw invalid(url, "etag must be md5 or version");
      return {
        kind: "fs",
        root,
        fsync: booleanParam(url, "fsync", params.get("fsync"), true),
        ...(etag === null ? {} : { etag }),
      };
    }
    case "s3": {
      checkParams(url, params, [
        "endpoint",
        "region",
        "forcePathStyle",
        "partSize",
        "queueSize",
        "conditionalWrite",
        "presignedPost",
        "maxParts",
      ]);
      const bucket = parsed.hostname;
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
        throw invalid(url, "missing or invalid bucket name");
      const prefix = decodeURIComponent(parsed.pathname.replace(/^\/+/, ""));
      if (prefix !== "" && !prefix.endsWith("/")) throw invalid(url, "the key prefix must end with /");
      const endpoint = params.get("endpoint") ?? undefined;
      if (endpoint !== undefined && !/^https?:\/\/[^/]+\/?$/.test(endpoint)) {
        throw invalid(url, "endpoint must be http(s)://host[:port]");
      }
      const region = params.get("region") ?? undefined;
      const partSize = integerParam(url, "partSize", params.get("partSize"), 5 * 1024 * 1024);
      const queueSize = integerParam(url, "queueSize", params.get("queueSize"), 1);
      const maxParts = integerParam(url, "maxParts", params.get("maxParts"), 1);
      if (maxParts !== undefined && maxParts > 10_000) throw invalid(url, "maxParts must be at most 10000");
      return {
        kind: "s3",
        bucket,
        prefix,
        forcePathStyle: booleanParam(
          url,
          "forcePathStyle",
          params.get("forcePathStyle"),
          endpoint !== undefined,
        ),
        ...(endpoint === undefined ? {} : { endpoint: endpoint.replace(/\/$/, "") }),
        ...(region === undefined ? {} : { region }),
        ...(partSize === undefined ? {} : { partSize }),
        ...(queueSize === undefined ? {} : { queueSize }),
        ...(maxParts === undefined ? {} : { maxParts }),
        ...optionalBoolean(url, params, "conditionalWrite"),
        ...optionalBoolean(url, params, "presignedPost"),
      };
    }
    case "azure":
      return parseAzureUrl(url, parsed);
    default:
      throw invalid(url, `unsupported scheme ${scheme}: (use file:, s3:, azure: or memory:)`);
  }
}

/** `azure://<account>/<container>[/<prefix>/]?endpoint=…&blockSize=…&concurrency=…` */
function parseAzureUrl(url: string, parsed: URL): StorageConfig {
  const params = parsed.searchParams;
  checkParams(url, params, ["endpoint", "blockSize", "concurrency"]);
  const account = parsed.hostname;
  if (!/^[a-z0-9]{3,24}$/.test(account)) throw invalid(url, "missing or invalid storage account name");
  const path = parsed.pathname.replace(/^\/+/, "");
  const slash = path.indexOf("/");
  const container = slash < 0 ? path : path.slice(0, slash);
  if (!/^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/.test(container))
    throw invalid(url, "missing or invalid container name (3-63 lower-case letters, digits, single hyphens)");
  const prefix = slash < 0 ? "" : decodeURIComponent(path.slice(slash + 1));
  if (prefix !== "" && !prefix.endsWith("/")) throw invalid(url, "the key prefix must end with /");
  const endpoint = params.get("endpoint") ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(endpoint))
    throw invalid(url, "endpoint must be the blob service URL, http(s)://host[:port][/path]");
  const blockSize = integerParam(url, "blockSize", params.get("blockSize"), 1024 * 1024);
  const concurrency = integerParam(url, "concurrency", params.get("concurrency"), 1);
  return {
    kind: "azure",
    account,
    container,
    prefix,
    ...(endpoint === undefined ? {} : { endpoint: endpoint.replace(/\/$/, "") }),
    ...(blockSize === undefined ? {} : { blockSize }),
    ...(concurrency === undefined ? {} : { concurrency }),
  };
}

/**
 * Opens the storage a URL names, wrapped once in key validation so no driver sees an unchecked key.
 *
 * @example
 * const storage = await openStorage("file:///srv/wharf/data");
 * const storage = await openStorage("s3://my-bucket/lfs/?region=eu-west-1");
 * const storage = await openStorage("azure://myaccount/lfs"); // credentials from AZURE_STORAGE_*
 */
export async function openStorage(url: string, options: OpenStorageOptions = {}): Promise<StorageDriver> {
  const config = parseStorageUrl(url, options.cwd === undefined ? {} : { cwd: options.cwd });
  switch (config.kind) {
    case "memory": {
      const { createMemoryDriver } = await import("./drivers/memory/memory.ts");
      return withKeyValidation(createMemoryDriver());
    }
    case "fs": {
      const { createFsDriver } = await import("./drivers/fs/fs.ts");
      return withKeyValidation(
        createFsDriver({
          root: config.root,
          fsync: config.fsync,
          etag: config.etag ?? options.fsEtag ?? "md5",
          ...(options.presign === undefined ? {} : { presign: options.presign }),
        }),
      );
    }
    case "s3": {
      const { openS3Driver } = await import("./drivers/s3/s3.ts");
      const { kind: _, ...s3 } = config;
      return withKeyValidation(
        await openS3Driver({
          ...s3,
          ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
          ...(options.tls === undefined ? {} : { tls: options.tls }),
        }),
      );
    }
    case "azure": {
      const [{ createAzureDriver }, { azureServiceFromEnv }] = await Promise.all([
        import("./drivers/azure/azure.ts"),
        import("./drivers/azure/credentials.ts"),
      ]);
      const { kind: _, account, endpoint, ...azure } = config;
      const service = await azureServiceFromEnv(
        { account, ...(endpoint === undefined ? {} : { endpoint }) },
        options.env ?? process.env,
      );
      return withKeyValidation(createAzureDriver({ service, ...azure }));
    }
  }
}
