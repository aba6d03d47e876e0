import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseEnv } from "node:util";
import { WharfError } from "@wharf/errors";
import { openStorage } from "@wharf/storage-driver";
import { type Env, loadConfig, parseConfigText, type TychoConfig } from "./config.ts";
import { createOutput, type Output, type Terminal } from "./output.ts";
import { createProgress, type Progress } from "./progress.ts";
import type { RegistryContext } from "./registry/context.ts";

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
  const out = createOutput(cli.terminal, options.json === true);
  const path = resolve(cli.cwd, options.config ?? cli.env.TYCHO_CONFIG ?? defaultConfigFile);
  const text = await readOptional(path);
  const file = text === undefined ? undefined : parseConfigText(path, text);
  const env = await withDotenv(cli, file);
  const config = loadConfig({ file, path, env, cwd: cli.cwd, defaultUser: cli.defaultUser });
  for (const warning of config.warnings) out.warn(`Warning: ${warning}`);
  // tycho never reads an etag as a content hash on a folder (it checks the sha256 recorded at
  // push), so the folder backend skips the md5 + sha256 it would otherwise compute on every write.
  const storage = await openStorage(config.storage.url, {
    cwd: cli.cwd,
    fsEtag: "version",
    // Drivers that read their own credential variables (azure) see tycho's environment, dotenv included.
    env,
    ...(config.storage.credentials ? { credentials: config.storage.credentials } : {}),
  });
  const progress = createProgress(cli.terminal.stderr, !out.json);
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
    throw explainStoreError(error, config.storage.url, path);
  } finally {
    progress.stop();
    await storage.close();
  }
}

/**
 * Store failures that are really configuration mistakes, in one clear line: a missing bucket
 * (whatever code the driver gives it) becomes `INVALID_ARGUMENT` naming the bucket.
 */
export function explainStoreError(error: unknown, storageUrl: string, configPath: string): unknown {
  if (!(error instanceof WharfError)) return error;
  const cause = error.cause as { name?: unknown; Code?: unknown } | undefined;
  if (cause?.name !== "NoSuchBucket" && cause?.Code !== "NoSuchBucket") return error;
  const bucket = storageUrl.startsWith("s3://") ? (storageUrl.slice(5).split(/[/?]/)[0] ?? "") : storageUrl;
  return new WharfError(
    "INVALID_ARGUMENT",
    `No Such Bucket: ${bucket} (check s3.bucket in ${configPath} or TYCHO_STORAGE_URL)`,
    { cause: error, details: { bucket } },
  );
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
