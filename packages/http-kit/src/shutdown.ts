import type { Logger } from "./logger.ts";

/**
 * On SIGTERM or SIGINT: log, run the closers in order (stop listening, drain, close clients), then exit 0.
 * A second signal, or closers still running after `timeoutMs`, exits 1 at once.
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
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      logger.error("shutdown timed out");
      process.exit(1);
    }, options.timeoutMs ?? 30_000);
    timer.unref();
    try {
      for (const close of closers) await close();
      logger.info("stopped");
      logger.flush?.();
      process.exitCode = 0;
      setImmediate(() => process.exit(0));
    } catch (error) {
      logger.error({ err: error }, "shutdown failed");
      process.exit(1);
    }
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}
