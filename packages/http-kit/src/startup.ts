import { WharfError } from "@wharf/errors";

/**
 * A configuration or environment problem found while a server starts (port in use, store
 * unreachable, key file unreadable): printed as one line naming the setting and what to do, exit 2.
 */
export class StartupError extends Error {
  readonly setting: string;
  readonly hint: string;
  constructor(setting: string, message: string, hint: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "StartupError";
    this.setting = setting;
    this.hint = hint;
  }

  /** `SETTING: what went wrong; what to do`, on one line. */
  line(): string {
    return `${this.setting}: ${this.message}; ${this.hint}`;
  }
}

/**
 * One line for an error: its message, and the system code of its cause when the message alone
 * hides it (`fetch failed` → `fetch failed (ECONNREFUSED)`).
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error).split("\n")[0] ?? "";
  const codes: string[] = [];
  for (let e: unknown = error; e instanceof Error && codes.length < 3; e = e.cause) {
    const code = e instanceof WharfError ? undefined : (e as { code?: unknown }).code;
    if (typeof code === "string" && !error.message.includes(code)) codes.push(code);
    if (e instanceof AggregateError && e.errors[0] instanceof Error) {
      const inner = (e.errors[0] as { code?: unknown }).code;
      if (typeof inner === "string") codes.push(inner);
    }
  }
  const message = (error.message || error.name).split("\n")[0]!.trim();
  const unique = [...new Set(codes)];
  return unique.length ? `${message} (${unique.join(", ")})` : message;
}

/**
 * Runs one start-up step; a failure becomes a {@link StartupError} for `setting` with `hint`
 * (its message prefixed by `action`, e.g. "cannot reach the store at …"), which the process guard
 * prints as one line before exiting 2.
 *
 * @example
 * const server = await startStep("PORT", "stop what listens there or set another PORT", () =>
 *   serveHttp(app.fetch, { port, host }),
 * );
 */
export async function startStep<T>(
  setting: string,
  hint: string,
  step: () => T | Promise<T>,
  action?: string,
): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof StartupError) throw error;
    const what = describeError(error);
    throw new StartupError(setting, action ? `${action}: ${what}` : what, hint, { cause: error });
  }
}
