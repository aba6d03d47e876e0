import { WharfError } from "@wharf/errors";
import { z } from "zod";

/** A configuration that failed validation: every problem, one per line, in `details.problems`. */
export class ConfigError extends WharfError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super("INVALID_ARGUMENT", `invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`, {
      details: { problems },
    });
    this.problems = problems;
  }
}

/** Parses `input` with `schema`, reporting every problem at once as a {@link ConfigError}. */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.length ? issue.path.join(".") : "(config)";
    return `${path}: ${issue.message}`;
  });
  throw new ConfigError(problems);
}

/** For `main.ts`: parse, or print every problem to stderr and exit 2 before anything listens. */
export function loadConfigOrExit<T>(load: () => T, appName: string): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${appName}: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** The longest shutdown delay accepted: past it, an orchestrator's kill deadline would cut the drain short. */
const maxShutdownDelaySeconds = 300;

/**
 * `SHUTDOWN_DELAY_SECONDS` (every HTTP app), parsed to milliseconds: on SIGTERM, how long a replica
 * keeps serving with its readiness answering 503 before it stops listening, so that a load balancer's
 * health checks take it out first (HAProxy: `inter` × `fall`, plus one check). Unset or empty: 0.
 */
export const shutdownDelaySeconds = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const text = value?.trim() ?? "";
    if (text === "") return 0;
    const seconds = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
    if (Number.isFinite(seconds) && seconds <= maxShutdownDelaySeconds) return Math.round(seconds * 1000);
    ctx.addIssue({
      code: "custom",
      message: `must be a number of seconds from 0 to ${maxShutdownDelaySeconds}, got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  });
