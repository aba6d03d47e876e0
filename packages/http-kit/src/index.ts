export { createHttpApp, type HttpAppOptions, type HttpEnv, type HttpVariables } from "./app.ts";
export { clientAddress } from "./client-address.ts";
export {
  ConfigError,
  loadConfigOrExit,
  parseConfig,
  shutdownDelaySeconds,
} from "./config.ts";
export { loadEnvFile } from "./env-file.ts";
export { httpStatusByCode, publicMessage, toWharfError } from "./errors.ts";
export { exitAfterLogs } from "./exit.ts";
export { createLogger, type Logger, recordingLogger, redactedPaths, silentLogger } from "./logger.ts";
export { createMetrics, type HttpMetrics, scrapedGauge } from "./metrics.ts";
export { guardProcess, isConnectionError, type ProcessGuard } from "./process-guard.ts";
export { type ReadinessOptions, sharedReadiness } from "./readiness.ts";
export { type RunningServer, serveHttp } from "./serve.ts";
export { drainHttp, onShutdown, shutdownTimeoutMs } from "./shutdown.ts";
export { describeError, StartupError, startStep } from "./startup.ts";
