import { type Command, InvalidArgumentError } from "commander";
import { sweep } from "../registry/sweep.ts";
import { type CliEnv, withScope } from "../scope.ts";
import { type Options, withCommonOptions } from "./common.ts";

type SweepFlags = Options<{ olderThanHours: number; yes: boolean }>;

export function registerSweep(program: Command, cli: CliEnv): void {
  withCommonOptions(
    program
      .command("sweep")
      .description("list what killed pushes left (stale claims, old unfinished uploads); --yes clears them")
      .option("--older-than-hours <h>", "unfinished uploads older than this (default 24)", positiveHours, 24)
      .option("--yes", "clear the stale claims and abort the old uploads", false),
  ).action((options: SweepFlags) =>
    withScope(cli, options, async ({ registry, out }) => {
      const result = await sweep(registry, {
        olderThanMs: options.olderThanHours * 3600_000,
        confirm: options.yes,
      });
      for (const claim of result.claims)
        out.line(`Stale Claim: ${claim.pkg}, Version ${claim.version} (by ${claim.by} since ${claim.at})`);
      for (const upload of result.uploads)
        out.line(`Unfinished Upload: ${upload.key} (since ${upload.initiated})`);
      const found = result.claims.length + result.uploads.length;
      if (found > 0 && !result.removed) out.warn("Run again with --yes to clear them.");
      if (result.removed)
        out.line(
          `Cleared: ${result.claims.length} stale claims, ${result.uploads.length} unfinished uploads older than ${options.olderThanHours} hours`,
        );
      out.result(result);
    }),
  );
}

function positiveHours(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new InvalidArgumentError("expected a number of hours above 0");
  return value;
}
