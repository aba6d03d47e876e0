import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

export interface AppProcess extends AsyncDisposable {
  /** What `ready` found in the app's log. */
  readonly url: string;
  readonly process: ChildProcess;
}

/**
 * Runs an app as it is deployed (`node <script> …args`, only PATH and `env` in its environment) and
 * resolves once `ready` finds its URL in one of its JSON log lines on stdout; rejects with its
 * stderr if it exits first. Disposing sends SIGTERM and waits for the exit.
 *
 * @example
 * await using app = await startAppProcess({ script: "src/main.ts", env, ready: (r) => r.msg === "listening" ? r.url : undefined });
 */
export async function startAppProcess(options: {
  script: string;
  args?: readonly string[];
  env: Record<string, string>;
  ready: (record: Record<string, unknown>) => string | undefined;
}): Promise<AppProcess> {
  const child = spawn(process.execPath, [options.script, ...(options.args ?? [])], {
    env: { PATH: process.env.PATH ?? "", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stderr: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      const found = options.ready(record);
      if (found !== undefined) resolve(found);
    });
    child.once("exit", (code) => reject(new Error(`${options.script} exited ${code}: ${stderr.join("")}`)));
  });
  return {
    url,
    process: child,
    async [Symbol.asyncDispose]() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
