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

/** Takes a line while progress bars are drawn, to print it above them (see `Progress.above`). */
export type LineSink = (text: string, stream: "stdout" | "stderr") => boolean;

export function createOutput(terminal: Terminal, json: boolean, above: LineSink = () => false): Output {
  const colorOut = !terminal.noColor && terminal.stdout.isTTY === true;
  const colorErr = !terminal.noColor && terminal.stderr.isTTY === true;
  const err = (text: string) => {
    if (!above(text, "stderr")) terminal.stderr.write(`${text}\n`);
  };
  return {
    json,
    line(text) {
      if (!json && !above(text, "stdout")) terminal.stdout.write(`${text}\n`);
    },
    green: (text) => (colorOut ? `\u001b[32m${text}\u001b[39m` : text),
    warn(text) {
      err(colorErr ? `\u001b[33m${text}\u001b[39m` : text);
    },
    error(code, text) {
      if (json) err(JSON.stringify({ error: { code, message: text } }));
      else err(colorErr ? `\u001b[31m${text}\u001b[39m` : text);
    },
    result(value) {
      if (json) terminal.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
  };
}
