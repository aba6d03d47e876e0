import { type ChildProcessByStdio, spawn } from "node:child_process";
import { once } from "node:events";
import { type AddressInfo, createServer } from "node:net";
import type { Readable } from "node:stream";

export interface ServerProcess extends AsyncDisposable {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** Everything written to stdout so far (JSON log lines). */
  stdout(): string;
  /** Everything written to stderr so far (start-up messages, dev hints). */
  stderr(): string;
  /** Resolves when stdout+stderr match `pattern`; rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<void>;
  /** The exit code (or signal name) once the process ends. */
  readonly exited: Promise<number | string>;
  /**
   * Closes the read side of its stdout (as when `… | tee log` dies on Ctrl-C), sends `signal`, and
   * resolves with the exit code.
   */
  stopWithoutReader(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Runs a server's entry file (`node [flags] entry`) as its own process with stdout and stderr
 * piped, as a supervisor would. Disposing kills it if it is still running.
 *
 * @example
 * await using server = spawnServer({ args: ["src/main.ts"], cwd: appDir, env: { PORT: "0" } });
 * await server.waitFor(/"msg":"listening"/);
 */
export function spawnServer(options: {
  args: string[];
  cwd?: string;
  env?: Record<string, string | undefined>;
}): ServerProcess {
  const child = spawn(process.execPath, options.args, {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    err += chunk;
  });
  // A test that closes the pipe on purpose must not see its own read side fail.
  child.stdout.on("error", () => undefined);
  child.stderr.on("error", () => undefined);
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
  });
  const waitFor = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(out + err)) return;
        child.stdout.off("data", check);
        child.stderr.off("data", check);
        resolve();
      };
      child.stdout.on("data", check);
      child.stderr.on("data", check);
      void exited.then((code) => reject(new Error(`exited (${code}) before ${pattern}:\n${out}${err}`)));
      check();
    });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor,
    exited,
    stopWithoutReader(signal = "SIGTERM") {
      child.stdout.destroy();
      child.kill(signal);
      return exited;
    },
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/**
 * A loopback port something already listens on (`port`, or one the OS picks), for start-up tests of
 * a busy port; released on dispose.
 *
 * @example
 * await using busy = await occupiedPort();
 */
export async function occupiedPort(port = 0): Promise<{ port: number } & AsyncDisposable> {
  const server = createServer().listen(port, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
