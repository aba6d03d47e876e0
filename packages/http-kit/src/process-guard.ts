import { isWharfError } from "@wharf/errors";
import { ConfigError } from "./config.ts";
import { exitAfterLogs } from "./exit.ts";
import type { Logger } from "./logger.ts";
import { describeError, StartupError } from "./startup.ts";

/** Codes of errors that concern one connection or one stream, not the process. */
const connectionCodes = new Set([
  "ECONNRESET",
  "ECONNABORTED",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPROTO",
  "ECANCELED",
  "ABORT_ERR",
  "ERR_STREAM_PREMATURE_CLOSE",
  "ERR_STREAM_DESTROYED",
  "ERR_STREAM_WRITE_AFTER_END",
  "ERR_STREAM_UNABLE_TO_PIPE",
]);

/**
 * True for an error that belongs to one request, connection or stream (a reset socket, an aborted
 * transfer, a WharfError meant for one client): the process is still sound and keeps serving others.
 */
export function isConnectionError(error: unknown): boolean {
  if (isWharfError(error)) return true;
  if (!(error instanceof Error)) return false;
  if (error.name === "AbortError") return true;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && (connectionCodes.has(code) || code.startsWith("ERR_SSL_"));
}

/** Errors at start that are the environment's, not a bug: one line, exit 2. */
function isEnvironmentError(error: unknown): boolean {
  if (error instanceof StartupError || error instanceof ConfigError) return true;
  if (isWharfError(error)) return error.code !== "INTERNAL";
  return error instanceof Error && typeof (error as { syscall?: unknown }).syscall === "string";
}

export interface ProcessGuard {
  /** From now on the process serves: unexpected errors go to `logger`, and only bugs end it. */
  serving(logger: Logger): void;
}

/**
 * The last line of defence for a server's `main.ts`, installed first thing.
 *
 * While starting, an error nobody caught ends the process: a configuration or environment problem
 * ({@link StartupError}, a `ConfigError`, a system error such as EADDRINUSE) as one line on stderr
 * and exit 2; anything else, a bug, with its stack and exit 1.
 *
 * Once {@link ProcessGuard.serving}: an unhandled rejection, or an uncaught error that concerns one
 * connection or stream (ECONNRESET, EPIPE, an abort, a WharfError), is logged at error level with
 * its stack and the server keeps serving everyone else; any other uncaught error is logged as fatal
 * and the process exits 1 for its supervisor to restart it. It never dies silently. Writes to a
 * stdout/stderr whose reader went away (EPIPE) are dropped.
 */
export function guardProcess(name: string): ProcessGuard {
  let logger: Logger | undefined;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") throw error;
    });
  }

  const failedToStart = (error: unknown) => {
    if (error instanceof StartupError) process.stderr.write(`${name}: ${error.line()}\n`);
    else if (error instanceof ConfigError) process.stderr.write(`${name}: ${error.message}\n`);
    else if (isEnvironmentError(error))
      process.stderr.write(`${name}: cannot start: ${describeError(error)}\n`);
    else {
      process.stderr.write(`${name}: unexpected error while starting (a bug):\n`);
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    }
    process.exit(2);
  };

  process.on("uncaughtException", (error, origin) => {
    if (!logger) {
      failedToStart(error);
      return;
    }
    if (isConnectionError(error) || origin === "unhandledRejection") {
      logger.error(
        { err: error, origin },
        "error nobody handled, on one connection or stream; still serving",
      );
      return;
    }
    logger.fatal({ err: error, origin }, "unexpected error, exiting");
    exitAfterLogs(logger, 1);
  });
  process.on("unhandledRejection", (reason) => {
    if (!logger) {
      failedToStart(reason);
      return;
    }
    logger.error({ err: reason }, "unhandled promise rejection; still serving");
  });

  return {
    serving(serverLogger) {
      logger = serverLogger;
    },
  };
}
