import { type ChildProcess, spawn } from "node:child_process";

/** A line a dying or wounded Node process writes: Node's own report, or a pino record saying so. */
const crashPattern = /Unhandled 'error' event|ERR_UNHANDLED_ERROR|uncaught ?exception|unhandled ?rejection/i;
const fatalLevel = 60;

export interface CheckedServer extends AsyncDisposable {
  readonly child: ChildProcess;
  /** Resolves with the exit code (`null` when a signal ended it) once the process exits. */
  readonly exited: Promise<number | null>;
  /** Everything it wrote so far, stdout and stderr interleaved. */
  log(): string;
  /** Resolves once its output contains `text`; rejects if it exits first. */
  waitForOutput(text: string): Promise<void>;
  /** Sends `signal` (SIGTERM by default); the exit that follows is expected. Resolves with the code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /**
   * Throws when the process logged an uncaught exception (Node's report, or a log record at fatal
   * level or naming one) or exited without `stop`. Called on dispose, so `await using` fails the test.
   */
  check(): void;
}

/**
 * Runs a server as its own process (`node <entry> ...args`) for an integration test, watching it:
 * a test that holds it with `await using` fails if the server logged an uncaught exception or
 * exited when nobody stopped it, even when every request the test made was answered.
 *
 * @example
 * await using server = spawnCheckedServer(mainPath, { env: { PORT: "0" } });
 * await server.stop("SIGTERM"); // an exit the test asked for
 */
export function spawnCheckedServer(
  entry: string,
  options: { args?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): CheckedServer {
  const child = spawn(process.execPath, [entry, ...(options.args ?? [])], {
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const crashes: string[] = [];
  let pending = "";
  const waiters = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    output += text;
    for (const wake of waiters) wake();
    const lines = (pending + text).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) if (reportsCrash(line)) crashes.push(line);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  let stopping = false;
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  // 'close' comes after the last output: nothing more can be waited for.
  let closed = false;
  child.once("close", () => {
    closed = true;
    for (const wake of waiters) wake();
  });

  const server: CheckedServer = {
    child,
    exited,
    log: () => output,
    async waitForOutput(text) {
      while (!output.includes(text)) {
        if (closed)
          throw new Error(`server ${entry} exited before writing ${JSON.stringify(text)}:\n${output}`);
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            resolve();
          };
          waiters.add(wake);
        });
      }
    },
    async stop(signal = "SIGTERM") {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    check() {
      const problems = findProblems();
      if (problems.length > 0) throw new Error(report(problems));
    },
    async [Symbol.asyncDispose]() {
      const problems = findProblems();
      await server.stop("SIGKILL");
      if (problems.length > 0) throw new Error(report(problems));
    },
  };

  function findProblems(): string[] {
    if (pending && reportsCrash(pending)) crashes.push(pending);
    pending = "";
    const ended = child.exitCode !== null || child.signalCode !== null;
    return [
      ...crashes.map((line) => `logged an uncaught exception: ${line}`),
      ...(ended && !stopping
        ? [`exited unexpectedly (code ${child.exitCode}, signal ${child.signalCode})`]
        : []),
    ];
  }

  function report(problems: string[]): string {
    return `server ${entry}:\n${problems.join("\n")}\n--- its output ---\n${output}`;
  }
  return server;
}

function reportsCrash(line: string): boolean {
  if (crashPattern.test(line)) return true;
  if (!line.startsWith("{")) return false;
  try {
    return (JSON.parse(line) as { level?: unknown }).level === fatalLevel;
  } catch {
    return false;
  }
}
