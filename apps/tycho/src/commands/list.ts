import type { Command } from "commander";
import { listPackages, packageVersions } from "../registry/inspect.ts";
import { type CliEnv, withScope } from "../scope.ts";
import { type Options, withCommonOptions } from "./common.ts";

export function registerList(program: Command, cli: CliEnv): void {
  withCommonOptions(program.command("list").description("list packages and their latest version")).action(
    (options: Options<object>) =>
      withScope(cli, options, async ({ registry, out, config }) => {
        const packages = await listPackages(registry);
        for (const pkg of packages)
          out.line(`${out.green(pkg.name)} -- Latest Version: ${pkg.latest ?? "None"}`);
        if (packages.length === 0 && !out.json) out.warn(`No packages in ${config.storage.describe}`);
        out.result(packages);
      }),
  );
}

export function registerListVersions(program: Command, cli: CliEnv): void {
  withCommonOptions(
    program
      .command("list-versions")
      .description("list a package's versions, lowest first (semver order; other versions first, by name)")
      .argument("<pkgname>", "package name"),
  ).action((pkgname: string, options: Options<object>) =>
    withScope(cli, options, async ({ registry, out }) => {
      const versions = await packageVersions(registry, pkgname);
      out.line(out.green(`${pkgname} Versions`));
      for (const entry of versions) out.line(`  - ${entry.version}${entry.yanked ? " (yanked)" : ""}`);
      out.result({ pkg: pkgname, versions });
    }),
  );
}
