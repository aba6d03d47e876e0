import type { Command } from "commander";
import { createMeta } from "../registry/meta.ts";
import { validateLocalName, validatePackageName } from "../registry/names.ts";
import { type CliEnv, withScope } from "../scope.ts";
import { type Options, withCommonOptions } from "./common.ts";

export function registerInit(program: Command, cli: CliEnv): void {
  withCommonOptions(
    program
      .command("init")
      .description("initialise a package: FILENAME is the name it is pulled to")
      .argument("<pkgname>", "package name")
      .argument("<filename>", "file name used when the package is pulled"),
  ).action((pkgname: string, filename: string, options: Options<object>) =>
    withScope(cli, options, async ({ registry, out }) => {
      const pkg = validatePackageName(pkgname);
      const localname = validateLocalName(filename);
      await createMeta(registry.storage, pkg, localname);
      out.line(`Initialized: ${pkg}`);
      out.result({ pkg, localname, latest: null });
    }),
  );
}
