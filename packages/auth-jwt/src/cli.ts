#!/usr/bin/env node
import { runTokenCommand } from "./token-command.ts";

process.exitCode = await runTokenCommand(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
