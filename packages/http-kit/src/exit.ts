import { pino } from "pino";
import type { Logger } from "./logger.ts";

/** The parts of pino's asynchronous destination (sonic-boom) an exit needs; all public. */
interface AsyncDestination {
  write(data: string): unknown;
  flushSync(): void;
  once(event: "drain" | "error", listener: () => void): unknown;
}

function asyncDestination(logger: Logger | undefined): AsyncDestination | undefined {
  const stream = (logger as unknown as Record<symbol, unknown> | undefined)?.[pino.symbols.streamSym];
  const candidate = stream as Partial<AsyncDestination> | undefined;
  return typeof candidate?.flushSync === "function" && typeof candidate.once === "function"
    ? (candidate as AsyncDestination)
    : undefined;
}

/**
 * Exits with `code` once the lines already logged are written, or after `waitMs` whatever stdout
 * does. pino flushes its asynchronous destination synchronously on `exit`, and sonic-boom retries a
 * write that fails with EPIPE forever: a server whose stdout was a pipe to a reader that went away
 * (`… | tee log`, then Ctrl-C; a dead log shipper) never exited. So the last lines get `waitMs` to
 * reach the pipe, then the synchronous flush is turned off (pino does the same once it has seen an
 * EPIPE) and the process exits. `waitMs: 0` exits at once.
 */
export function exitAfterLogs(logger: Logger | undefined, code: number, waitMs = 1000): void {
  const stream = asyncDestination(logger);
  let exiting = false;
  const exit = () => {
    if (exiting) return;
    exiting = true;
    if (stream) stream.flushSync = () => undefined;
    process.exit(code);
  };
  if (!stream || waitMs <= 0) {
    exit();
    return;
  }
  process.exitCode = code;
  stream.once("drain", exit);
  stream.once("error", exit);
  setTimeout(exit, waitMs);
  // An empty write queues behind whatever is pending, so its 'drain' means everything before it is
  // out. Once pino has seen an EPIPE its `write` does nothing and no 'drain' comes: the timer ends it.
  stream.write("");
}
