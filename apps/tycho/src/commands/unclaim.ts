import type { Command } from "commander";
import { unclaim } from "../registry/unclaim.ts";
import { type CliEnv, withScope } from "../scope.ts";
import { type Options, withCommonOptions } from "./common.ts";

export function registerUnclaim(program: Command, cli: CliEnv): void {
  withCommonOptions(
    program
      .command("unclaim")
      .description(
        "clear the claim a killed push left on a version (and abort its unfinished upload); shows the holder unless --yes",
      )
      .argument("<pkgname>", "package name")
      .argument("<version>", "the version the push was creating")
      .option("--yes", "remove the claim: only when that push is no longer running", false),
  ).action((pkgname: string, version: string, options: Options<{ yes: boolean }>) =>
    withScope(cli, options, async ({ registry, out }) => {
      const result = await unclaim(registry, { pkg: pkgname, version, confirm: options.yes });
      const uploads =
        result.abortedUploads === 1 ? "1 unfinished upload" : `${result.abortedUploads} unfinished uploads`;
      out.line(
        `Unclaimed: ${result.pkg}, Version ${result.version} (held by ${result.holder.by} since ${result.holder.at}; ${uploads} aborted)`,
      );
      out.result(result);
    }),
  );
}
