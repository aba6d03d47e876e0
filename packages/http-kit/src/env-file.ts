import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { StartupError } from "./startup.ts";

/**
 * For `main.ts`: reads `KEY=value` settings from `.env` in the current folder when there is one
 * (Node's own parser, as `node --env-file`); variables already in the environment win. A file that
 * cannot be read or parsed is a {@link StartupError}.
 */
export function loadEnvFile(path = ".env"): void {
  const file = resolve(path);
  if (!existsSync(file)) return;
  try {
    process.loadEnvFile(file);
  } catch (error) {
    throw new StartupError(file, (error as Error).message, "fix or remove the file", { cause: error });
  }
}
