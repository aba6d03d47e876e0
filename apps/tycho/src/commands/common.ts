import { type Command, InvalidArgumentError } from "commander";
import type { CommonOptions } from "../scope.ts";

/** `--config` and `--json`, on every command as tychoreg has them. */
export function withCommonOptions(command: Command): Command {
  return command
    .option("--config <file>", "config file path (default: $TYCHO_CONFIG or ./.tychoreg.json)")
    .option("--json", "print one JSON document instead of messages");
}

/** Adds `--concurrency N` for commands that move bytes. */
export function withConcurrency(command: Command): Command {
  return command.option(
    "--concurrency <n>",
    "parallel transfers (default: tycho.concurrency or 8)",
    positiveInt,
  );
}

export function positiveInt(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1 || value > 64)
    throw new InvalidArgumentError("expected an integer from 1 to 64");
  return value;
}

export type Options<T> = CommonOptions & T;
