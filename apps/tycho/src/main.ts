#!/usr/bin/env node
import { hostname, userInfo } from "node:os";
import { run } from "./cli.ts";

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
