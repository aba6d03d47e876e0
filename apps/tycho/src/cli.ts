import { isWharfError } from "@wharf/errors";
import { Command, CommanderError } from "commander";
import packageJson from "../package.json" with { type: "json" };
import { withCommonOptions } from "./commands/common.ts";
import { registerInfo } from "./commands/info.ts";
import { registerInit } from "./commands/init.ts";
import { registerList, registerListVersions } from "./commands/list.ts";
import { registerDelete, registerVerify, registerYank } from "./commands/manage.ts";
import { registerPromote } from "./commands/promote.ts";
import { registerPull } from "./commands/pull.ts";
import { registerPullList } from "./commands/pull-list.ts";
import { registerPush } from "./commands/push.ts";
import { registerSweep } from "./commands/sweep.ts";
import { registerUnclaim } from "./commands/unclaim.ts";
import { exitCodeByCode } from "./exit-codes.ts";
import { helpFooter } from "./help-text.ts";
import { createOutput } from "./output.ts";
import type { CliEnv } from "./scope.ts";

export function createProgram(cli: CliEnv): Command {
  const program = withCommonOptions(new Command("tycho"))
    .description("Versioned packages in a bucket or a local folder (drop-in for tychoreg)")
    .version(packageJson.version, "-V, --version", "print the version of tycho")
    // Options before the command are the program's, after it the command's (`pull --version V`).
    .enablePositionalOptions()
    .exitOverride()
    .showSuggestionAfterError()
    .addHelpText("after", helpFooter())
    .configureOutput({
      writeOut: (text) => cli.terminal.stdout.write(text),
      writeErr: (text) => cli.terminal.stderr.write(text),
    });
  for (const register of [
    registerInit,
    registerPush,
    registerPromote,
    registerPull,
    registerPullList,
    registerList,
    registerListVersions,
    registerInfo,
    registerYank,
    registerDelete,
    registerVerify,
    registerUnclaim,
    registerSweep,
  ])
    register(program, cli);
  for (const command of program.commands) command.exitOverride();
  // `tycho --json info x` and `tycho info x --json` mean the same: the command's own value wins.
  program.hook("preAction", (_program, action) => {
    for (const [name, value] of Object.entries(program.opts()))
      if (action.getOptionValue(name) === undefined) action.setOptionValue(name, value);
  });
  return program;
}

/** Runs one command line and returns the exit status: the only place errors become exit codes. */
export async function run(argv: readonly string[], cli: CliEnv): Promise<number> {
  const json = argv.includes("--json");
  try {
    await createProgram(cli).parseAsync([...argv], { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : exitCodeByCode.INVALID_ARGUMENT;
    const out = createOutput(cli.terminal, json);
    if (isWharfError(error)) {
      out.error(error.code, error.message);
      if (cli.env.TYCHO_DEBUG) debugCauses(cli, error);
      return exitCodeByCode[error.code];
    }
    if (cli.signal.aborted) {
      out.error("CANCELLED", "Interrupted");
      return exitCodeByCode.CANCELLED;
    }
    out.error("INTERNAL", `Unexpected error: ${error instanceof Error ? error.message : String(error)}`);
    if (cli.env.TYCHO_DEBUG && error instanceof Error) debugCauses(cli, error);
    return exitCodeByCode.INTERNAL;
  }
}

/** `TYCHO_DEBUG=1`: the error's stack and every cause below it (the store's, the socket's). */
function debugCauses(cli: CliEnv, error: Error): void {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 8; depth++) {
    const code = (current as { code?: unknown }).code;
    const label = depth === 0 ? "" : "caused by: ";
    cli.terminal.stderr.write(
      `${label}${current.stack ?? current.message}${code ? ` [${String(code)}]` : ""}\n`,
    );
    current = current.cause;
  }
}
