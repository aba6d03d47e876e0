import type { Writable } from "node:stream";

export interface Terminal {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
  /** NO_COLOR set, or forced off. */
  readonly noColor: boolean;
}

/** Human lines on stdout (tychoreg's messages), errors on stderr, or one JSON document in `--json` mode. */
export interface Output {
  readonly json: boolean;
  line(text: string): void;
  green(text: string): string;
  warn(text: string): void;
  error(code: string, text: string): void;
  result(value: unknown): void;
}

export function createOutput(terminal: Terminal, json: boolean): Output {
  const colorOut = !terminal.noColor && terminal.stdout.isTTY === true;
  const colorErr = !terminal.noColor && terminal.stderr.isTTY === true;
  return {
    json,
    line(text) {
      if (!json) terminal.stdout.write(`${text}\n`);
    },
    green: (text) => (colorOut ? `\u001b[32m${text}\u001b[39m` : text),
    warn(text) {
      terminal.stderr.write(`${colorErr ? `\u001b[33m${text}\u001b[39m` : text}\n`);
    },
    error(code, text) {
      if (json) terminal.stderr.write(`${JSON.stringify({ error: { code, message: text } })}\n`);
      else terminal.stderr.write(`${colorErr ? `\u001b[31m${text}\u001b[39m` : text}\n`);
    },
    result(value) {
      if (json) terminal.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
  };
}
