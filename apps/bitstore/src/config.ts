import { ConfigError, parseConfig, shutdownDelaySeconds } from "@wharf/http-kit";
import { parseStorageUrl, type StorageConfig } from "@wharf/storage-driver";
import { z } from "zod";
import { compileKeyPattern } from "./key-pattern.ts";

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));
const seconds = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  HOST: z.string().min(1).default("0.0.0.0"),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  SHUTDOWN_DELAY_SECONDS: shutdownDelaySeconds,
  SERVICE_NAME: z
    .string()
    .regex(/^[\w.-]+$/, "must be a single URL path segment")
    .optional(),
  DATAHUB_SERVICE_NAME: z
    .string()
    .regex(/^[\w.-]+$/, "must be a single URL path segment")
    .optional(),
  DATAHUB_PUBLIC_KEY: optionalString,
  DATAHUB_JWKS_URL: optionalString.pipe(z.url().optional()),
  AUTH_SERVER: optionalString.pipe(z.url().optional()),
  JWT_ALGORITHMS: z.string().default("RS256"),
  STORAGE_URL: optionalString,
  STORAGE_ACCESS_KEY_ID: optionalString,
  STORAGE_SECRET_ACCESS_KEY: optionalString,
  STORAGE_HOSTNAME: optionalString,
  S3_ENDPOINT_URL: optionalString.pipe(z.url().optional()),
  STORAGE_BUCKET_NAME: optionalString,
  STORAGE_REGION: z.string().min(1).default("us-east-1"),
  STORAGE_PATH_PATTERN: z.string().min(1).default("{owner}/{name}/{path}"),
  PUBLIC_URL: optionalString.pipe(z.url().optional()),
  ACCESS_KEY_EXPIRES_IN: seconds(3600, 604800),
  DOWNLOAD_EXPIRES_IN: seconds(86400, 604800),
  MAX_FILES_PER_REQUEST: z.coerce.number().int().min(1).max(10000).default(1000),
  MULTIPART_THRESHOLD: z.coerce
    .number()
    .int()
    .min(1)
    .max(5 * GiB)
    .default(5 * GiB),
  MULTIPART_PART_SIZE: z.coerce
    .number()
    .int()
    .min(5 * MiB)
    .max(5 * GiB)
    .default(64 * MiB),
  ABANDONED_UPLOAD_HOURS: z.coerce.number().min(0).default(24),
  CORS_ORIGINS: z.string().default("*"),
  CORS_CREDENTIALS: bool.default(true),
  VERIFY_UPLOADS: z.enum(["off", "redirect"]).default("off"),
  STARTUP_PROBE: bool.default(true),
  STATE_PREFIX: z
    .string()
    .regex(/^[\w.-]+\/$/, "must be one path segment followed by /")
    .default("_bitstore/"),
});

function crossProblems(raw: Env): string[] {
  const problems: string[] = [];
  const env = trimmed(raw);
  const ctx = {
    addIssue: (issue: { path: string[]; message: string }) =>
      problems.push(`${issue.path.join(".")}: ${issue.message}`),
  };
  if (!env.DATAHUB_PUBLIC_KEY && !env.DATAHUB_JWKS_URL && !env.AUTH_SERVER) {
    ctx.addIssue({
      path: ["DATAHUB_PUBLIC_KEY"],
      message: "set DATAHUB_PUBLIC_KEY (PEM), DATAHUB_JWKS_URL or AUTH_SERVER",
    });
  }
  if (env.DATAHUB_PUBLIC_KEY && !env.DATAHUB_PUBLIC_KEY.includes("-----BEGIN")) {
    ctx.addIssue({ path: ["DATAHUB_PUBLIC_KEY"], message: "must be a PEM public key" });
  }
  if (!env.STORAGE_URL && !env.STORAGE_BUCKET_NAME) {
    ctx.addIssue({ path: ["STORAGE_URL"], message: "set STORAGE_URL or STORAGE_BUCKET_NAME" });
  }
  const local = !namesBucket(env.STORAGE_URL);
  if (!env.STORAGE_ACCESS_KEY_ID || !env.STORAGE_SECRET_ACCESS_KEY) {
    ctx.addIssue({
      path: ["STORAGE_ACCESS_KEY_ID"],
      message: local
        ? "set both STORAGE_ACCESS_KEY_ID and STORAGE_SECRET_ACCESS_KEY, or neither (bitstore then keeps its own pair in the store)"
        : "STORAGE_ACCESS_KEY_ID and STORAGE_SECRET_ACCESS_KEY are required: the S3 key pair that signs the upload forms",
    });
  }
  const algorithms = (env.JWT_ALGORITHMS as string).split(",").map((a) => a.trim());
  if (algorithms.some((a) => !/^(RS|PS|ES)(256|384|512)$|^EdDSA$/.test(a))) {
    ctx.addIssue({
      path: ["JWT_ALGORITHMS"],
      message: "only public-key algorithms (RS*, PS*, ES*, EdDSA) are allowed",
    });
  }
  try {
    compileKeyPattern(env.STORAGE_PATH_PATTERN as string);
  } catch (error) {
    ctx.addIssue({ path: ["STORAGE_PATH_PATTERN"], message: (error as Error).message });
  }
  const storageUrl = env.STORAGE_URL;
  if (storageUrl) {
    try {
      parseStorageUrl(storageUrl);
    } catch (error) {
      ctx.addIssue({ path: ["STORAGE_URL"], message: (error as Error).message });
    }
  }
  if (local && !env.PUBLIC_URL && derivedPublicUrl(env) === undefined) {
    ctx.addIssue({
      path: ["PUBLIC_URL"],
      message: `on a store that is no S3 bucket (local disk, Azure Blob) bitstore takes the uploads itself and needs the address clients upload to (the forms point there): set PUBLIC_URL, e.g. PUBLIC_URL=http://127.0.0.1:${env.PORT ?? "8000"}, or listen on HOST=127.0.0.1 to use that`,
    });
  }
  if (env.VERIFY_UPLOADS === "redirect" && !env.PUBLIC_URL && derivedPublicUrl(env) === undefined) {
    ctx.addIssue({ path: ["PUBLIC_URL"], message: "VERIFY_UPLOADS=redirect needs PUBLIC_URL" });
  }
  return problems;
}

/**
 * Whether a storage URL names an S3 bucket, the only place forms could be posted to other than
 * bitstore itself. Whether they are is the opened store's to say (`presignedPost`, see store-needs.ts);
 * a URL naming no bucket (a folder, an Azure container) has bitstore take them in any case.
 */
export function namesBucket(url: string | undefined): boolean {
  if (url === undefined) return true; // the original's STORAGE_BUCKET_NAME
  try {
    return bucketOf(parseStorageUrl(url)) !== undefined;
  } catch {
    return true; // the URL's own problem is reported; no local-disk advice on top of it
  }
}

function bucketOf(parsed: StorageConfig) {
  return "bucket" in parsed ? parsed : undefined;
}

/** Local-disk (bitstore-takes-the-forms) mode on a loopback address: clients can only be on this machine, at that address. */
function derivedPublicUrl(env: Record<string, string | undefined>): string | undefined {
  const host = env.HOST;
  const port = env.PORT ?? "8000";
  if (port === "0" || namesBucket(env.STORAGE_URL)) return undefined;
  if (host === "127.0.0.1" || host === "localhost") return `http://${host}:${port}`;
  if (host === "::1") return `http://[::1]:${port}`;
  return undefined;
}

function trimmed(raw: Env): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(raw))
    out[name] = value?.trim() === "" ? undefined : value?.trim();
  out.JWT_ALGORITHMS ??= "RS256";
  out.STORAGE_PATH_PATTERN ??= "{owner}/{name}/{path}";
  return out;
}

export type Env = Record<string, string | undefined>;

/** An S3 bucket's address, which forms and presigned URLs are signed for. */
export interface BucketLocation {
  readonly endpoint: string;
  readonly name: string;
  /** Key prefix inside the bucket, `""` or ending with `/`. */
  readonly prefix: string;
  readonly forcePathStyle: boolean;
}

/**
 * Where bitstore keeps the files: the storage URL for `openStorage`, and the S3 bucket it names, if
 * any. Forms point at that bucket when the opened store takes browser POSTs (`presignedPost`), and at
 * bitstore itself otherwise (see `formsBucket` in store-needs.ts).
 */
export interface StorageTarget {
  readonly url: string;
  readonly bucket?: BucketLocation;
}

export interface BitstoreConfig {
  readonly port: number;
  readonly host: string;
  readonly logLevel: string;
  /** On SIGTERM: how long readiness answers 503 while requests are still served, before the listener closes. */
  readonly shutdownDelayMs: number;
  readonly serviceName: string;
  readonly auth: {
    readonly publicKey?: string;
    readonly jwksUrl?: string;
    readonly authServer?: string;
    readonly algorithms: readonly string[];
  };
  readonly storage: StorageTarget;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly keyPattern: string;
  readonly publicUrl?: string;
  readonly uploadExpiresIn: number;
  readonly downloadExpiresIn: number;
  readonly maxFilesPerRequest: number;
  readonly multipartThreshold: number;
  readonly partSize: number;
  /** Multipart uploads at least this old are aborted at start-up (0: never). */
  readonly abandonedUploadMs: number;
  readonly cors: { readonly origins: "*" | readonly string[]; readonly credentials: boolean };
  readonly verifyUploads: "off" | "redirect";
  readonly startupProbe: boolean;
  readonly statePrefix: string;
}

/** Pure: environment in, typed config out; every problem reported at once as a ConfigError. */
export function loadConfig(env: Env): BitstoreConfig {
  const cross = crossProblems(env);
  let e: z.output<typeof schema>;
  try {
    e = parseConfig(schema, env);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError([...error.problems, ...cross]);
    throw error;
  }
  if (cross.length > 0) throw new ConfigError(cross);
  const algorithms = e.JWT_ALGORITHMS.split(",")
    .map((a) => a.trim())
    .filter(Boolean);
  return {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    shutdownDelayMs: e.SHUTDOWN_DELAY_SECONDS,
    serviceName: e.SERVICE_NAME ?? e.DATAHUB_SERVICE_NAME ?? "rawstore",
    auth: {
      publicKey: e.DATAHUB_PUBLIC_KEY?.replace(/\\n/g, "\n"),
      jwksUrl: e.DATAHUB_JWKS_URL,
      authServer: e.AUTH_SERVER,
      algorithms,
    },
    storage: storageTarget(e),
    region: e.STORAGE_REGION,
    credentials: {
      accessKeyId: e.STORAGE_ACCESS_KEY_ID as string,
      secretAccessKey: e.STORAGE_SECRET_ACCESS_KEY as string,
    },
    keyPattern: e.STORAGE_PATH_PATTERN,
    publicUrl: (e.PUBLIC_URL ?? derivedPublicUrl(trimmed(env)))?.replace(/\/+$/, ""),
    uploadExpiresIn: e.ACCESS_KEY_EXPIRES_IN,
    downloadExpiresIn: e.DOWNLOAD_EXPIRES_IN,
    maxFilesPerRequest: e.MAX_FILES_PER_REQUEST,
    multipartThreshold: e.MULTIPART_THRESHOLD,
    partSize: e.MULTIPART_PART_SIZE,
    abandonedUploadMs: e.ABANDONED_UPLOAD_HOURS * 3_600_000,
    cors: {
      origins:
        e.CORS_ORIGINS.trim() === "*"
          ? "*"
          : e.CORS_ORIGINS.split(",")
              .map((o) => o.trim())
              .filter(Boolean),
      credentials: e.CORS_CREDENTIALS,
    },
    verifyUploads: e.VERIFY_UPLOADS,
    startupProbe: e.STARTUP_PROBE,
    statePrefix: e.STATE_PREFIX,
  };
}

function storageTarget(e: z.output<typeof schema>): StorageTarget {
  const url = e.STORAGE_URL ?? s3UrlFromOriginalEnv(e);
  const bucket = bucketOf(parseStorageUrl(url));
  if (bucket === undefined) return { url };
  const region = bucket.region ?? e.STORAGE_REGION;
  const endpoint = bucket.endpoint ?? `https://s3.${region}.amazonaws.com`;
  return {
    url,
    bucket: { endpoint, name: bucket.bucket, prefix: bucket.prefix, forcePathStyle: bucket.forcePathStyle },
  };
}

/** The original's variables: STORAGE_BUCKET_NAME on STORAGE_HOSTNAME (or the upstream S3_ENDPOINT_URL). */
function s3UrlFromOriginalEnv(e: z.output<typeof schema>): string {
  const host = e.STORAGE_HOSTNAME;
  const endpoint =
    e.S3_ENDPOINT_URL ?? (host ? (/^https?:\/\//.test(host) ? host : `https://${host}`) : undefined);
  const query = new URLSearchParams({ region: e.STORAGE_REGION, forcePathStyle: "true" });
  if (endpoint) query.set("endpoint", endpoint);
  return `s3://${e.STORAGE_BUCKET_NAME}?${query}`;
}
