import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger } from "pino";

/** Paths pino blanks out wherever they appear in a log record. */
export const redactedPaths = [
  "password",
  "token",
  "secret",
  "authorization",
  "*.password",
  "*.token",
  "*.secret",
  "*.authorization",
  "*.secretAccessKey",
  "headers.authorization",
  "headers.cookie",
  'headers["auth-token"]',
];

/** JSON-lines logger for an app: one record per line on stdout (or `destination`), secrets redacted. */
export function createLogger(options: {
  name: string;
  level?: string;
  destination?: DestinationStream;
}): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? "info",
      redact: { paths: redactedPaths, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that drops everything, for tests. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

/**
 * A logger that keeps its records in memory (parsed, secrets redacted as in production), for tests
 * that assert what an app logged.
 *
 * @example
 * const { logger, records } = recordingLogger();
 * expect(records).toContainEqual(expect.objectContaining({ status: 401, reason: "expired" }));
 */
export function recordingLogger(level = "info"): { logger: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    name: "test",
    level,
    destination: { write: (line: string) => void records.push(JSON.parse(line)) },
  });
  return { logger, records };
}
