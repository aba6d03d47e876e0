export { createHttpApp, type HttpAppOptions, type HttpEnv, type HttpVariables } from "./app.ts";
export { ConfigError, loadConfigOrExit, parseConfig } from "./config.ts";
export { httpStatusByCode, publicMessage, toWharfError } from "./errors.ts";
export { createLogger, type Logger, redactedPaths, silentLogger } from "./logger.ts";
export { createMetrics, type HttpMetrics, scrapedGauge } from "./metrics.ts";
export { type RunningServer, serveHttp } from "./serve.ts";
export { onShutdown } from "./shutdown.ts";
