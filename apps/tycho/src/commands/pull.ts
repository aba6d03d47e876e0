import type { Command } from "commander";
import { type PullRequest, type PullResult, pull } from "../registry/pull.ts";
import { type CliEnv, type Scope, withScope } from "../scope.ts";
import { type Options, withCommonOptions, withConcurrency } from "./common.ts";

type PullFlags = Options<{ version: string; force: boolean; outfile?: string }>;

export function registerPull(program: Command, cli: CliEnv): void {
  withConcurrency(
    withCommonOptions(
      program
        .command("pull")
        .description("download a version (default: latest) to <outdir>/<filename>")
        .argument("<pkgname>", "package name")
        .option("--version <version>", "latest, an exact version, or a semver range such as ^1.2", "latest")
        .option("--force", "download even when the local copy is up to date", false)
        .option("--no-force", "skip an up-to-date local copy (default)")
        .option("--outfile <file>", "write here instead of <outdir>/<filename>"),
    ),
  ).action((pkgname: string, options: PullFlags) =>
    withScope(cli, options, async (scope) => {
      const result = await pullWithMessages(scope, scope.out.line, {
        pkg: pkgname,
        version: options.version,
        force: options.force,
        ...(options.outfile ? { outfile: options.outfile } : {}),
      });
      scope.out.result(result);
    }),
  );
}

/** One pull, printing tychoreg's lines (`Pulling: …`, `File Hash: …` or `Skipping: …`) through `print`. */
export async function pullWithMessages(
  scope: Scope,
  print: (line: string) => void,
  request: Pick<PullRequest, "pkg" | "version" | "force" | "outfile">,
): Promise<PullResult> {
  let bar: ReturnType<Scope["progress"]["bar"]> | undefined;
  const result = await pull(scope.registry, {
    ...request,
    outdir: scope.config.outdir,
    cwd: scope.cwd,
    signal: scope.signal,
    onStart: ({ version, target, size }) => {
      print(`Pulling: ${request.pkg} ${version} -> ${target}`);
      bar = scope.progress.bar(`${request.pkg} ${version}`, size);
    },
    onProgress: (moved, total) => bar?.update(moved, total),
  });
  bar?.done();
  if (result.skipped) print(`Skipping: ${result.pkg}`);
  else print(`File Hash: ${result.etag}`);
  if (result.unverifiedReason)
    scope.out.warn(`Warning: ${result.pkg} ${result.version} is unverified: ${result.unverifiedReason}`);
  return result;
}
