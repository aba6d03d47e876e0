#!/usr/bin/env node
import { enableCompileCache } from "node:module";
import { hostname, userInfo } from "node:os";
import { setFlagsFromString } from "node:v8";

// A transfer allocates a short-lived buffer per network read (16,000 per GiB). With V8's defaults
// (young generation growing, old-space limit close to the ~16 MiB a CLI keeps live) a full
// mark-compact ran every ~16 MiB moved: a third of a pull's CPU (node --cpu-prof, perf, --trace-gc).
// A small young generation and a limit of 4x the live heap leave those buffers to cheap scavenges
// (2 mark-compacts per GiB instead of 60). Set before the modules load.
setFlagsFromString("--heap-growing-percent=300 --semi-space-growth-factor=1");
// Every run loads the CLI, the AWS SDK and zod: V8's on-disk code cache halves start-up (0.45 s ->
// 0.22 s). In $NODE_COMPILE_CACHE or the OS temp folder; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
// The entry, bin/tycho.mjs, turns it on before main.ts loads; this is for `node src/main.ts`.
enableCompileCache();
const { run } = await import("./cli.ts");

const controller = new AbortController();
let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    controller.abort();
  });

if (process.env.WHARF_DEV === "1")
  process.stderr.write(
    `tycho (dev): registry at ${process.env.TYCHO_STORAGE_URL ?? "(config file)"}; no credentials needed for a local folder\n`,
  );

const safeUser = (): string => {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
};

process.exitCode = await run(process.argv.slice(2), {
  terminal: { stdout: process.stdout, stderr: process.stderr, noColor: Boolean(process.env.NO_COLOR) },
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
  now: () => new Date(),
  defaultUser: `${safeUser()}@${hostname()}`,
});
