import { resolve } from "node:path";
import type { Command } from "commander";
import { push } from "../registry/push.ts";
import { type CliEnv, withScope } from "../scope.ts";
import { type Options, withCommonOptions, withConcurrency } from "./common.ts";

export function registerPush(program: Command, cli: CliEnv): void {
  withConcurrency(
    withCommonOptions(
      program
        .command("push")
        .description("upload FILE as a new VERSION; an existing version is never overwritten")
        .argument("<pkgname>", "package name")
        .argument("<version>", "version to create")
        .argument("<file>", "local file to upload")
        .option("--promote-latest", "make this version the latest", false)
        .option("--no-promote-latest", "leave latest as it is"),
    ),
  ).action((pkgname: string, version: string, file: string, options: Options<{ promoteLatest: boolean }>) =>
    withScope(cli, options, async ({ registry, out, progress, cwd, signal }) => {
      const bar = progress.bar(`${pkgname} ${version}`, 0);
      const result = await push(registry, {
        pkg: pkgname,
        version,
        path: resolve(cwd, file),
        promoteLatest: options.promoteLatest,
        onProgress: (sent, total) => bar.update(sent, total),
        signal,
      });
      bar.done();
      out.result(result);
    }),
  );
}
