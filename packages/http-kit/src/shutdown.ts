import { exitAfterLogs } from "./exit.ts";
import type { Logger } from "./logger.ts";
import type { RunningServer } from "./serve.ts";

/** How long the closers may take after the shutdown delay before the process gives up on them. */
export const shutdownTimeoutMs = 30_000;

/**
 * The first closer of an HTTP app: {@link RunningServer.drain} with the app's shutdown delay
 * (`SHUTDOWN_DELAY_SECONDS`), saying in the log what it waits for.
 */
export async function drainHttp(server: RunningServer, delayMs: number, logger: Logger): Promise<void> {
  if (delayMs > 0)
    logger.info(
      { delayMs },
      "draining: readiness answers 503 and requests are still served until the delay ends, then the listener closes",
    );
  await server.drain(delayMs);
}

/**
 * On SIGTERM or SIGINT: log, run the closers in order (stop listening, drain, close clients), then exit 0.
 * A second SIGTERM/SIGINT exits 1 at once; closers still running after `timeoutMs` exit 1. Neither
 * waits for stdout: a server exits on time even when its log pipe is full or has no reader.
 */
export function onShutdown(
  logger: Logger,
  closers: ReadonlyArray<() => Promise<void> | void>,
  options: { timeoutMs?: number } = {},
): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, "second signal, exiting now");
      exitAfterLogs(logger, 1, 100);
      return;
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: options.timeoutMs ?? shutdownTimeoutMs }, "shutdown timed out, exiting now");
      exitAfterLogs(logger, 1, 200);
    }, options.timeoutMs ?? shutdownTimeoutMs);
    timer.unref();
    try {
      for (const close of closers) await close();
      logger.info("stopped");
      exitAfterLogs(logger, 0);
    } catch (error) {
      logger.error({ err: error }, "shutdown failed");
      exitAfterLogs(logger, 1);
    }
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}
