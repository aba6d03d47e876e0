#!/usr/bin/env node
import { hostname, userInfo } from "node:os";
import { setFlagsFromString } from "node:v8";

// A transfer allocates a short-lived buffer per network read (16,000 per GiB). With V8's default
// heap growing factor, the old-space limit sat so close to the ~16 MiB that a CLI keeps live that
// V8 ran a full mark-compact every ~16 MiB moved: a third of a pull's CPU (node --cpu-prof, perf).
// A limit of 4x the live heap leaves those buffers to cheap scavenges. Set before modules load.
setFlagsFromString("--heap-growing-percent=300");
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
