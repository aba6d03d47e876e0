import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseEnv } from "node:util";
import { isWharfError, WharfError } from "@wharf/errors";
import {
  openStorage,
  type S3TlsOptions,
  type StorageDriver,
  withCheckThenWrite,
} from "@wharf/storage-driver";
import { type Env, loadConfig, parseConfigText, type StorageSpec, type TychoConfig } from "./config.ts";
import { createOutput, type Output, type Terminal } from "./output.ts";
import { createProgress, type Progress } from "./progress.ts";
import type { RegistryContext } from "./registry/context.ts";
import { explainStoreError } from "./store-errors.ts";

/** What the CLI gets from `main.ts`: the only place that reads process state. */
export interface CliEnv {
  readonly terminal: Terminal;
  readonly env: Env;
  readonly cwd: string;
  readonly signal: AbortSignal;
  readonly now: () => Date;
  readonly defaultUser: string;
}

export interface CommonOptions {
  readonly config?: string;
  readonly json?: boolean;
  readonly concurrency?: number;
}

/** One command's world: config, an open registry, output and progress. */
export interface Scope {
  readonly config: TychoConfig;
  readonly registry: RegistryContext;
  readonly out: Output;
  readonly progress: Progress;
  readonly cwd: string;
  readonly signal: AbortSignal;
}

export const defaultConfigFile = ".tychoreg.json";

/** Loads the config, opens the store, runs `body`, and always releases the store and the bars. */
export async function withScope(
  cli: CliEnv,
  options: CommonOptions,
  body: (scope: Scope) => Promise<void>,
): Promise<void> {
  const progress = createProgress(cli.terminal, options.json !== true);
  const out = createOutput(cli.terminal, options.json === true, progress.above);
  const named = options.config ?? (cli.env.TYCHO_CONFIG || undefined);
  const path = resolve(cli.cwd, named ?? defaultConfigFile);
  const text = await readOptional(path);
  // Only the default file may be absent: a named one that is missing is a typo, not "use defaults".
  if (text === undefined && named !== undefined)
    throw new WharfError(
      "INVALID_ARGUMENT",
      `Config file not found: ${path} (named by ${options.config === undefined ? "TYCHO_CONFIG" : "--config"})`,
      { details: { path } },
    );
  const file = text === undefined ? undefined : parseConfigText(path, text);
  const env = await withDotenv(cli, file);
  const config = loadConfig({ file, path, env, cwd: cli.cwd, defaultUser: cli.defaultUser });
  for (const warning of config.warnings) out.warn(`Warning: ${warning}`);
  if (config.storage.isDefault) {
    const why = text === undefined ? `no ${defaultConfigFile} here` : `${path} names no registry`;
    out.warn(`Note: ${why} and no TYCHO_STORAGE_URL: using the registry folder ${config.storage.describe}`);
  }
  // tycho never reads an etag as a content hash on a folder (it checks the sha256 recorded at
  // push), so the folder backend skips the md5 + sha256 it would otherwise compute on every write.
  const opened = await openStorage(config.storage.url, {
    cwd: cli.cwd,
    fsEtag: "version",
    // Drivers that read their own credential variables (azure) see tycho's environment, dotenv included.
    env,
    ...(config.storage.credentials ? { credentials: config.storage.credentials } : {}),
    ...(config.storage.tls ? { tls: await tlsOptions(config.storage.tls) } : {}),
  }).catch((error: unknown) => {
    throw explainStoreError(error, config.storage.url, path);
  });
  // Without conditional writes (Swift's s3api), write as tychoreg does: check, then put.
  if (!opened.capabilities.conditionalWrite)
    out.warn(
      "Warning: the store has no conditional writes (capability conditionalWrite): tycho checks before it writes, as tychoreg does, but concurrent pushes and updates of one package are not guarded",
    );
  const storage = withCheckThenWrite(opened);
  const transfer = options.concurrency
    ? { ...config.transfer, concurrency: options.concurrency }
    : config.transfer;
  try {
    await body({
      config,
      registry: {
        storage,
        now: cli.now,
        user: config.user,
        transfer,
        claimStaleAfterMs: config.claimStaleAfterMs,
      },
      out,
      progress,
      cwd: cli.cwd,
      signal: cli.signal,
    });
  } catch (error) {
    throw explainStoreError(await whyNotFound(storage, error), config.storage.url, path);
  } finally {
    progress.stop();
    await storage.close();
  }
}

/**
 * A HEAD of a missing bucket answers 404 with no body, which reads as a missing object (`info`,
 * `promote`, `yank` would say "Does Not Exist"): on NOT_FOUND, one listing tells the bucket's
 * own error apart. Returns that error, or the original one.
 */
async function whyNotFound(storage: StorageDriver, error: unknown): Promise<unknown> {
  if (!isWharfError(error, "NOT_FOUND")) return error;
  try {
    await storage.list({ limit: 1 });
    return error;
  } catch (listError) {
    return listError;
  }
}

async function tlsOptions(tls: NonNullable<StorageSpec["tls"]>): Promise<S3TlsOptions> {
  if ("insecure" in tls) return { rejectUnauthorized: false };
  try {
    return { ca: await readFile(tls.caFile, "utf8") };
  } catch (error) {
    throw new WharfError(
      "INVALID_ARGUMENT",
      `Cannot read CA bundle ${tls.caFile}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new WharfError("INVALID_ARGUMENT", `Cannot read config ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** tychoreg loads `tycho.dotenv` before resolving `{"env": …}` values; variables already set win. */
async function withDotenv(cli: CliEnv, file: unknown): Promise<Env> {
  const dotenv = (file as { tycho?: { dotenv?: unknown } } | undefined)?.tycho?.dotenv;
  if (typeof dotenv !== "string") return cli.env;
  const path = resolve(cli.cwd, dotenv);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return cli.env;
    throw new WharfError("INVALID_ARGUMENT", `Cannot read dotenv ${path}: ${(error as Error).message}`);
  }
  return { ...parseEnv(text), ...cli.env };
}
