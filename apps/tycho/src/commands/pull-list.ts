import { isWharfError, WharfError } from "@wharf/errors";
import type { Command } from "commander";
import { settleLimit } from "../registry/pool.ts";
import type { PullResult } from "../registry/pull.ts";
import { type CliEnv, withScope } from "../scope.ts";
import { type Options, positiveInt, withCommonOptions } from "./common.ts";
import { pullWithMessages } from "./pull.ts";

type PullListFlags = Options<{ force: boolean; jobs?: number }>;

export function registerPullList(program: Command, cli: CliEnv): void {
  withCommonOptions(
    program
      .command("pull-list")
      .description("pull the latest version of several packages, in parallel")
      .argument("<pkgnames...>", "package names")
      .option("--force", "download even when the local copy is up to date", false)
      .option("--no-force", "skip up-to-date local copies (default)")
      .option("--jobs <n>", "packages pulled at once (default 4)", positiveInt)
      .option("--concurrency <n>", "parallel ranged reads per package", positiveInt),
  ).action((pkgnames: string[], options: PullListFlags) =>
    withScope(cli, options, async (scope) => {
      const buffers = pkgnames.map(() => [] as (() => void)[]);
      const finished = pkgnames.map(() => false);
      let flushed = 0;
      const flush = () => {
        while (flushed < pkgnames.length && finished[flushed]) {
          for (const print of buffers[flushed] ?? []) print();
          flushed++;
        }
      };
      // The same name twice must not race on one target: later duplicates wait for the first.
      const firstRun = new Map<string, Promise<unknown>>();
      const results = await settleLimit(pkgnames, options.jobs ?? 4, async (pkg, index) => {
        const earlier = firstRun.get(pkg);
        const run = (async () => {
          await earlier?.catch(() => undefined);
          try {
            const print = (line: string) => buffers[index]?.push(() => scope.out.line(line));
            return await pullWithMessages(scope, print, { pkg, force: options.force });
          } catch (error) {
            const { code, message } = errorJson(error);
            buffers[index]?.push(() => scope.out.error(code, message));
            throw error;
          } finally {
            finished[index] = true;
            flush();
          }
        })();
        firstRun.set(pkg, run);
        return run;
      });
      const failures = results.filter((result) => result.status === "rejected");
      scope.out.result(
        results.map((result, index) =>
          result.status === "fulfilled"
            ? (result.value as PullResult)
            : { pkg: pkgnames[index], error: errorJson(result.reason) },
        ),
      );
      if (failures.length > 0) {
        const first = failures[0]?.reason;
        throw new WharfError(
          isWharfError(first) ? first.code : "INTERNAL",
          `${failures.length} of ${pkgnames.length} packages failed to pull`,
        );
      }
    }),
  );
}

function errorJson(error: unknown): { code: string; message: string } {
  return isWharfError(error)
    ? { code: error.code, message: error.message }
    : { code: "INTERNAL", message: String(error) };
}
