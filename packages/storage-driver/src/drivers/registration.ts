import type { BooleanCapability, StorageDriver } from "../types.ts";
import type { FsEtagMode, FsPresignOptions } from "./fs/fs.ts";
import type { S3Credentials, S3TlsOptions } from "./s3/s3.ts";

/** What an app may pass to `openStorage` besides the URL; each driver reads the options meant for it. */
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
   * Where drivers read their ecosystem's credential variables (azure: `AZURE_STORAGE_CONNECTION_STRING`,
   * `AZURE_STORAGE_KEY`, `AZURE_STORAGE_SAS_TOKEN`, then `DefaultAzureCredential`'s); default `process.env`.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A parsed storage URL: the driver's `kind` and what its URL says. */
export interface DriverConfig {
  readonly kind: string;
}

/** What a registration's `parse` gets besides the URL. */
export interface ParseContext {
  /** The URL as given, for error messages (`invalidStorageUrl`). */
  readonly url: string;
  /** Base of relative paths. */
  readonly cwd: string;
}

/**
 * How `openStorage` knows a driver: its URL scheme(s), how it reads its URL, where its credentials
 * come from and what it declares, and how to open it. Each driver folder exports one (its
 * `registration.ts`, which loads the driver itself only in `open`, so an app that never uses a
 * driver never loads its SDK); `drivers/registry.ts` lists them.
 *
 * @example
 * export const memoryRegistration: DriverRegistration<{ kind: "memory" }> = {
 *   kind: "memory", schemes: ["memory"], options: [], credentials: [], location: "process",
 *   capabilities: { rangeRead: true, … },
 *   parse: () => ({ kind: "memory" }),
 *   describe: () => "memory",
 *   open: async () => (await import("./memory.ts")).createMemoryDriver(),
 * };
 */
export interface DriverRegistration<Config extends DriverConfig = DriverConfig> {
  /** The `kind` of the configs it parses; unique in the registry. */
  readonly kind: Config["kind"];
  /** URL schemes it serves, lower case, without the colon; each served by one driver. */
  readonly schemes: readonly string[];
  /** Query options its URLs take; any other is refused before `parse` runs. */
  readonly options: readonly string[];
  /** The environment variables it reads its credentials from, for messages and docs. */
  readonly credentials: readonly string[];
  /**
   * Where the objects are: `"folder"`, a folder on this machine (`folder(config)` names it);
   * `"remote"`, a service over the network; `"process"`, this process's memory.
   */
  readonly location: "folder" | "remote" | "process";
  /** What it declares for each boolean capability; `"depends"`: on the store (probed) or on options. */
  readonly capabilities: Readonly<Record<BooleanCapability, boolean | "depends">>;
  /**
   * Reads a URL of one of its schemes (no credentials in it, options already checked against
   * `options`); bad values throw `invalidStorageUrl(context.url, why)`.
   */
  parse(url: URL, context: ParseContext): Config;
  /** Reads a bare path (no scheme); at most one registration takes them (the fs driver). */
  parsePath?(path: string, context: ParseContext): Config;
  /** The folder holding the objects, for `location: "folder"`. */
  folder?(config: Config): string;
  /** The store as messages name it (`folder /srv/x`, `http://127.0.0.1:7480 (bucket lfs)`); no secrets. */
  describe(config: Config): string;
  /** Opens the driver (lazily importing it), reading credentials from `options.env ?? process.env`. */
  open(config: Config, options: OpenStorageOptions): Promise<StorageDriver>;
}
