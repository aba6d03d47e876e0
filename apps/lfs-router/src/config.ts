import { ConfigError, shutdownDelaySeconds } from "@wharf/http-kit";
import { parseStorageUrl } from "@wharf/storage-driver";
import { z } from "zod";

/**
 * Every setting of the router. Wharf's own names win over timone's (`TIMONE_*`), which are
 * accepted so that a timone deployment keeps its environment.
 */
export interface LfsConfig {
  readonly port: number;
  readonly host: string;
  readonly logLevel: string;
  /** On SIGTERM: how long readiness answers 503 while requests are still served, before the listener closes. */
  readonly shutdownDelayMs: number;
  /** `file://…`, a path, or `s3://bucket/prefix?…`. */
  readonly storageUrl: string;
  /** Static S3 credentials (timone's `TIMONE_STORAGE_S3_KEY/SECRET`); otherwise the AWS default chain. */
  readonly s3Credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Prepended to every object key: `<prefix><org>/<repo>/<oid[0:2]>/<oid[2:4]>/<oid>`. */
  readonly keyPrefix: string;
  /** Base URL of this router as clients reach it, for proxied transfer links; default: the request's origin. */
  readonly publicUrl?: string;
  readonly jwt: { readonly secret: string; readonly algorithms: readonly ("HS256" | "HS384" | "HS512")[] };
  /** Secret signing the router's own transfer links (proxy mode, verify). */
  readonly linkSecret: string;
  readonly transferMode: "auto" | "direct" | "proxy";
  readonly expiresIn: number;
  readonly maxBatchObjects: number;
  readonly maxObjectSize?: number;
  readonly repoQuotaBytes?: number;
  /** Repository patterns (`org/repo`, `org/*`, `*`) readable without credentials. */
  readonly anonymousRead: readonly string[];
  /** Scopes granted to a valid token that carries no `scope`/`scopes` claim (timone tokens). */
  readonly unscopedTokenScopes: readonly string[];
  readonly realm: string;
  readonly locking: boolean;
  /** Multipart uploads under the key prefix older than this are aborted at start (0: never). */
  readonly abandonedUploadMs: number;
  readonly dev: boolean;
  /** What the start-up log must warn about (timone-compatible settings taken as timone had them). */
  readonly warnings: readonly string[];
}

const pythonLevels: Record<string, string> = {
  CRITICAL: "fatal",
  FATAL: "fatal",
  ERROR: "error",
  WARNING: "warn",
  WARN: "warn",
  INFO: "info",
  DEBUG: "debug",
  NOTSET: "trace",
};
const pinoLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));
const list = optionalString.transform((v) =>
  v === undefined
    ? []
    : v
        .split(/[\s,]+/)
        .map((s) => s.trim())
        .filter(Boolean),
);
const envSchema = z.object({
  PORT: optionalString,
  HOST: optionalString,
  LOG_LEVEL: optionalString,
  SHUTDOWN_DELAY_SECONDS: shutdownDelaySeconds,
  TIMONE_LOG_LEVEL: optionalString,
  STORAGE_URL: optionalString,
  TIMONE_STORAGE: optionalString,
  TIMONE_STORAGE_S3_URL: optionalString,
  TIMONE_STORAGE_S3_REGION: optionalString,
  TIMONE_STORAGE_S3_BUCKET: optionalString,
  TIMONE_STORAGE_S3_KEY: optionalString,
  TIMONE_STORAGE_S3_SECRET: optionalString,
  TIMONE_STORAGE_S3_MAX_FILE: optionalString,
  LFS_KEY_PREFIX: optionalString,
  PUBLIC_URL: optionalString,
  TIMONE_ENDPOINT_URL: optionalString,
  JWT_SECRET: optionalString,
  TIMONE_TOKEN_SECRET: optionalString,
  JWT_ALGORITHMS: list,
  LFS_LINK_SECRET: optionalString,
  LFS_TRANSFER_MODE: optionalString,
  LFS_EXPIRES_IN: optionalString,
  TIMONE_OBJECT_EXPIRESIN: optionalString,
  LFS_MAX_BATCH_OBJECTS: optionalString,
  LFS_MAX_OBJECT_SIZE: optionalString,
  LFS_REPO_QUOTA_BYTES: optionalString,
  LFS_ANONYMOUS_READ: list,
  LFS_UNSCOPED_TOKEN_SCOPES: list,
  LFS_REALM: optionalString,
  LFS_LOCKING: optionalString,
  LFS_ABANDONED_UPLOAD_HOURS: optionalString,
  WHARF_DEV: optionalString,
});

type Env = z.output<typeof envSchema>;

/** Parses the environment; throws `ConfigError` listing every problem at once. */
export function loadConfig(env: Record<string, string | undefined>): LfsConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success)
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  const problems: string[] = [];
  const config = build(parsed.data, problems, env.LFS_UNSCOPED_TOKEN_SCOPES !== undefined);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function positiveInt(name: string, value: string | undefined, problems: string[]): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isSafeInteger(n) && n > 0) return n;
  problems.push(`${name}: must be a positive integer, got ${JSON.stringify(value)}`);
  return undefined;
}

function hours(name: string, value: string | undefined, fallback: number, problems: string[]): number {
  if (value === undefined) return fallback;
  const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isFinite(n)) return n;
  problems.push(`${name}: must be a number of hours (0 or more), got ${JSON.stringify(value)}`);
  return fallback;
}

function flag(name: string, value: string | undefined, fallback: boolean, problems: string[]): boolean {
  if (value === undefined) return fallback;
  const v = value.toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  problems.push(`${name}: must be true or false, got ${JSON.stringify(value)}`);
  return fallback;
}

function build(e: Env, problems: string[], unscopedGiven: boolean): LfsConfig {
  const secret = e.JWT_SECRET ?? e.TIMONE_TOKEN_SECRET;
  // Configured with timone's secret variable, tokens keep working as they did under timone: its
  // tokens were signed with whatever secret it had, and carry only `username`.
  const timoneTokens = e.JWT_SECRET === undefined && e.TIMONE_TOKEN_SECRET !== undefined;
  const warnings: string[] = [];
  if (!secret) problems.push("JWT_SECRET (or TIMONE_TOKEN_SECRET): required, the HS256 token secret");
  else if (secret.length < 8 && !timoneTokens) problems.push("JWT_SECRET: must be at least 8 characters");
  else if (secret.length < 8)
    warnings.push(
      `TIMONE_TOKEN_SECRET is ${secret.length} characters long: anyone who guesses it can mint tokens (and transfer links); accepted so timone's tokens keep working, re-mint them under a long JWT_SECRET`,
    );
  const unscopedTokenScopes = timoneTokens && !unscopedGiven ? ["*:write"] : e.LFS_UNSCOPED_TOKEN_SCOPES;
  if (timoneTokens && !unscopedGiven)
    warnings.push(
      "TIMONE_TOKEN_SECRET is set: tokens without a scope claim may read and write every repository, as under timone; set LFS_UNSCOPED_TOKEN_SCOPES (or move to JWT_SECRET and scoped tokens) to narrow that",
    );

  const algorithms = e.JWT_ALGORITHMS.length > 0 ? e.JWT_ALGORITHMS : ["HS256"];
  for (const alg of algorithms)
    if (!["HS256", "HS384", "HS512"].includes(alg))
      problems.push(`JWT_ALGORITHMS: ${alg} is not one of HS256, HS384, HS512`);

  const rawLevel = e.LOG_LEVEL ?? e.TIMONE_LOG_LEVEL ?? "info";
  const logLevel = pythonLevels[rawLevel.toUpperCase()] ?? rawLevel.toLowerCase();
  if (!pinoLevels.includes(logLevel)) problems.push(`LOG_LEVEL: unknown level ${rawLevel}`);

  const mode = e.LFS_TRANSFER_MODE ?? "auto";
  if (!["auto", "direct", "proxy"].includes(mode))
    problems.push(`LFS_TRANSFER_MODE: ${mode} is not one of auto, direct, proxy`);

  const publicUrl = e.PUBLIC_URL ?? e.TIMONE_ENDPOINT_URL;
  if (publicUrl !== undefined && !/^https?:\/\/[^/\s]+(\/\S*)?$/.test(publicUrl))
    problems.push("PUBLIC_URL: must be an http(s) URL");

  const keyPrefix = e.LFS_KEY_PREFIX ?? "";
  if (keyPrefix !== "" && (!keyPrefix.endsWith("/") || keyPrefix.startsWith("/") || keyPrefix.includes("..")))
    problems.push("LFS_KEY_PREFIX: must be relative and end with '/' (e.g. lfs/)");

  const storage = storageFrom(e, problems);
  const int = (name: keyof Env) => positiveInt(name, e[name] as string | undefined, problems);
  positiveInt("TIMONE_STORAGE_S3_MAX_FILE", e.TIMONE_STORAGE_S3_MAX_FILE, problems);
  const expiresIn = int("LFS_EXPIRES_IN") ?? int("TIMONE_OBJECT_EXPIRESIN") ?? 3600;
  const maxObjectSize = int("LFS_MAX_OBJECT_SIZE");
  const repoQuotaBytes = int("LFS_REPO_QUOTA_BYTES");
  if (expiresIn > 604_800) problems.push("LFS_EXPIRES_IN: at most 604800 seconds (7 days)");

  return {
    port: int("PORT") ?? 8080,
    host: e.HOST ?? "0.0.0.0",
    logLevel,
    shutdownDelayMs: e.SHUTDOWN_DELAY_SECONDS,
    storageUrl: storage.url,
    ...(storage.credentials ? { s3Credentials: storage.credentials } : {}),
    keyPrefix,
    ...(publicUrl ? { publicUrl: publicUrl.replace(/\/+$/, "") } : {}),
    jwt: { secret: secret ?? "", algorithms: algorithms as LfsConfig["jwt"]["algorithms"] },
    linkSecret: e.LFS_LINK_SECRET ?? `lfs-link:${secret ?? ""}`,
    transferMode: mode as LfsConfig["transferMode"],
    expiresIn,
    maxBatchObjects: int("LFS_MAX_BATCH_OBJECTS") ?? 1000,
    ...(maxObjectSize ? { maxObjectSize } : {}),
    ...(repoQuotaBytes ? { repoQuotaBytes } : {}),
    anonymousRead: e.LFS_ANONYMOUS_READ,
    unscopedTokenScopes,
    realm: e.LFS_REALM ?? "Git LFS",
    locking: flag("LFS_LOCKING", e.LFS_LOCKING, true, problems),
    abandonedUploadMs:
      hours("LFS_ABANDONED_UPLOAD_HOURS", e.LFS_ABANDONED_UPLOAD_HOURS, 24, problems) * 3_600_000,
    dev: flag("WHARF_DEV", e.WHARF_DEV, false, problems),
    warnings,
  };
}

function storageFrom(e: Env, problems: string[]): { url: string; credentials?: LfsConfig["s3Credentials"] } {
  if (e.STORAGE_URL) {
    try {
      parseStorageUrl(e.STORAGE_URL);
    } catch (error) {
      problems.push(`STORAGE_URL: ${(error as Error).message}`);
    }
    return { url: e.STORAGE_URL };
  }
  const driver = e.TIMONE_STORAGE;
  if (driver === "DumbStorageDriver")
    problems.push(
      "TIMONE_STORAGE: DumbStorageDriver is a fake store; set STORAGE_URL or use S3StorageDriver",
    );
  else if (driver !== undefined && driver !== "S3StorageDriver")
    problems.push(`TIMONE_STORAGE: unknown driver ${driver}`);
  const bucket = e.TIMONE_STORAGE_S3_BUCKET;
  if (!bucket) {
    if (driver !== "DumbStorageDriver")
      problems.push(
        "STORAGE_URL: required (file:///path or s3://bucket/prefix?endpoint=…), or TIMONE_STORAGE_S3_BUCKET",
      );
    return { url: "" };
  }
  const query = new URLSearchParams();
  if (e.TIMONE_STORAGE_S3_URL) {
    query.set("endpoint", e.TIMONE_STORAGE_S3_URL);
    query.set("forcePathStyle", "true");
  }
  if (e.TIMONE_STORAGE_S3_REGION) query.set("region", e.TIMONE_STORAGE_S3_REGION);
  const qs = query.toString();
  const url = `s3://${bucket}${qs ? `?${qs}` : ""}`;
  const key = e.TIMONE_STORAGE_S3_KEY;
  const secret = e.TIMONE_STORAGE_S3_SECRET;
  if ((key === undefined) !== (secret === undefined))
    problems.push("TIMONE_STORAGE_S3_KEY and TIMONE_STORAGE_S3_SECRET: set both or neither");
  return key && secret ? { url, credentials: { accessKeyId: key, secretAccessKey: secret } } : { url };
}
