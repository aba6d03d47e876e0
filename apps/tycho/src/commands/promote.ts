import type { Command } from "commander";
import { promote } from "../registry/promote.ts";
import { type CliEnv, withScope } from "../scope.ts";
import { type Options, withCommonOptions } from "./common.ts";

export function registerPromote(program: Command, cli: CliEnv): void {
  withCommonOptions(
    program
      .command("promote")
      .description("make VERSION the latest version of a package")
      .argument("<pkgname>", "package name")
      .argument("<version>", "existing version"),
  ).action((pkgname: string, version: string, options: Options<object>) =>
    withScope(cli, options, async ({ registry, out }) => {
      await promote(registry, { pkg: pkgname, version });
      out.result({ pkg: pkgname, latest: version });
    }),
  );
}
