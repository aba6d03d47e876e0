import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm, watch, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { run } from "../src/cli.ts";
import type { Terminal } from "../src/output.ts";
import type { CliEnv } from "../src/scope.ts";
import { createScreen } from "./screen.ts";

const main = new URL("../bin/tycho.mjs", import.meta.url).pathname;

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout lines. */
  readonly lines: string[];
  json<T = unknown>(): T;
}

/** A folder to run the CLI in: its own cwd, config file and environment. */
export interface Workspace extends AsyncDisposable {
  readonly dir: string;
  readonly env: Record<string, string>;
  /** Runs the CLI's entry point (`run` from cli.ts, below main.ts) in this process: fast. */
  run(...args: string[]): Promise<RunResult>;
  /** Runs in process with the clock stopped at `now`. */
  runAt(now: Date, ...args: string[]): Promise<RunResult>;
  /** Runs with extra environment variables. */
  runWith(env: Record<string, string>, ...args: string[]): Promise<RunResult>;
  /** Runs in process with stdout and stderr on one terminal (TTY): what the user sees. */
  runOnTerminal(...args: string[]): Promise<{ code: number; screen: string[]; raw: string }>;
  /** Spawns `node bin/tycho.mjs` as a real process. */
  spawn(...args: string[]): Promise<RunResult>;
  /** Spawns `node bin/tycho.mjs` and returns at once: the child, and its result once it exits. */
  start(...args: string[]): Started;
  file(name: string, content: string | Buffer): Promise<string>;
}

export async function workspace(options: {
  config?: unknown;
  env?: Record<string, string>;
}): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), "tycho-e2e-"));
  if (options.config !== undefined)
    await writeFile(join(dir, ".tychoreg.json"), JSON.stringify(options.config));
  const env = { TYCHO_USER: "e2e@test", ...options.env };
  const runWith = (extra: Record<string, string>, ...args: string[]) =>
    runInProcess(args, dir, { ...env, ...extra });
  return {
    dir,
    env,
    run: (...args) => runWith({}, ...args),
    runWith,
    runAt: (now, ...args) => runInProcess(args, dir, env, () => now),
    async runOnTerminal(...args) {
      const screen = createScreen();
      const terminal = { stdout: screen.stream, stderr: screen.stream, noColor: true };
      const code = await run(args, inProcess(terminal, dir, env));
      return { code, screen: screen.lines(), raw: screen.raw() };
    },
    spawn: (...args) => runCli(args, dir, env),
    start: (...args) => startCli(args, dir, env),
    async file(name, content) {
      const path = join(dir, name);
      await writeFile(path, content);
      return path;
    },
    [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }),
  };
}

function result(code: number | null, stdout: string, stderr: string): RunResult {
  return {
    code,
    stdout,
    stderr,
    lines: stdout.split("\n").filter((line) => line !== ""),
    json: <T>() => JSON.parse(stdout) as T,
  };
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

async function runInProcess(
  args: readonly string[],
  cwd: string,
  env: Record<string, string>,
  now?: () => Date,
): Promise<RunResult> {
  const stdout = collector();
  const stderr = collector();
  const terminal = { stdout: stdout.stream, stderr: stderr.stream, noColor: true };
  const code = await run(args, { ...inProcess(terminal, cwd, env), ...(now ? { now } : {}) });
  return result(code, stdout.text(), stderr.text());
}

function inProcess(terminal: Terminal, cwd: string, env: Record<string, string>): CliEnv {
  return {
    terminal,
    env: { HOME: cwd, ...env },
    cwd,
    signal: new AbortController().signal,
    now: () => new Date(),
    defaultUser: "tester@localhost",
  };
}

export interface Started {
  readonly child: ChildProcess;
  /** Resolves on exit; `signal` is set when the process was killed. */
  readonly done: Promise<RunResult & { signal: NodeJS.Signals | null }>;
}

/** Spawns `node bin/tycho.mjs` as a real process, the way a user's shell would. */
export async function runCli(
  args: readonly string[],
  cwd: string,
  env: Record<string, string>,
): Promise<RunResult> {
  return startCli(args, cwd, env).done;
}

export function startCli(args: readonly string[], cwd: string, env: Record<string, string>): Started {
  const base: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "TMPDIR", "LANG"])
    if (process.env[name]) base[name] = process.env[name];
  const child = spawn(process.execPath, [main, ...args], { cwd, env: { ...base, ...env }, stdio: "pipe" });
  const done = new Promise<RunResult & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ ...result(code, stdout, stderr), signal }));
  });
  return { child, done };
}

/**
 * Resolves with the first non-undefined value of `probe`, re-run on every change in `dir`
 * (no polling interval, no sleeps); rejects if `stop` settles first.
 */
export async function whenInDir<T>(
  dir: string,
  probe: () => Promise<T | undefined>,
  stop: Promise<unknown>,
): Promise<T> {
  const controller = new AbortController();
  try {
    const changes = watch(dir, { signal: controller.signal });
    const stopped = stop.then(() => {
      throw new Error(`stopped before the awaited change in ${dir}`);
    });
    const found = (async () => {
      const first = await probe();
      if (first !== undefined) return first;
      for await (const _ of changes) {
        const value = await probe();
        if (value !== undefined) return value;
      }
      throw new Error(`stopped watching ${dir}`);
    })();
    found.catch(() => undefined);
    stopped.catch(() => undefined);
    return await Promise.race([found, stopped]);
  } finally {
    controller.abort();
  }
}

/** Deterministic bytes of a given length. */
export function bytes(length: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export const sha256 = (data: Buffer | string): string => createHash("sha256").update(data).digest("hex");
export const md5 = (data: Buffer | string): string => createHash("md5").update(data).digest("hex");
