/**
 * `./wharf start [app…]`: every app (or the named ones) on the embedded default (local disk under
 * ./data), each listening on 127.0.0.1. Each app opts in through its package.json:
 *   "wharf": { "dev": { "env": { "PORT": "8101", "STORAGE_URL": "${DATA}/lfs" }, "note": "…",
 *                       "needs": { "127.0.0.1:7495": "infra/lib/dev-services.sh start registry" } } }
 * `${DATA}` is the absolute ./data folder, `${DEV_SECRET}` a random secret kept in ./data/.dev-secret,
 * `${ROOT}` the repository. Apps get WHARF_DEV=1 and print their own endpoint and credentials; a
 * `needs` address nothing listens on is reported with the command that starts it.
 *
 * Ctrl-C (or SIGTERM) stops them all gracefully; a second one kills them at once. If an app exits on
 * its own (a busy port, a bad setting), the others are stopped and this exits with its code.
 * An unknown app name, or a bad WHARF_DEV_PORT_OFFSET, exits 2 before anything starts.
 *
 * WHARF_DATA_DIR moves ./data; WHARF_DEV_PORT_OFFSET=N shifts every port the profiles own (see
 * ports.ts), to run a second copy.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { parseOffset, shiftEnv, shiftNote } from "./ports.ts";

interface DevSpec {
  env?: Record<string, string>;
  note?: string;
  /** false: the app is a CLI; only its note is printed. */
  serve?: boolean;
  /** `host:port` of a service the app needs → the command that starts it. */
  needs?: Record<string, string>;
}

interface DevApp {
  name: string;
  spec: DevSpec;
  nodeArgs: string[];
}

// The terminal's reader may be gone (`./wharf start | tee log`, then Ctrl-C): keep stopping the apps.
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
const fail = (message: string): never => {
  process.stderr.write(`wharf start: ${message}\n`);
  process.exit(2);
};

const root = resolve(import.meta.dirname, "../..");

function devApps(): DevApp[] {
  return readdirSync(join(root, "apps"))
    .sort()
    .flatMap((name) => {
      const manifest = join(root, "apps", name, "package.json");
      if (!existsSync(manifest)) return [];
      const pkg = JSON.parse(readFileSync(manifest, "utf8")) as {
        scripts?: { start?: string };
        wharf?: { dev?: DevSpec };
      };
      if (!pkg.wharf?.dev) return [];
      // Node flags and entry file from the app's own `start` script (`node --flag … src/main.ts`), so
      // both run alike.
      const start = /^node((?: --[\w-]+(?:=\S+)?)*) ([\w./-]+\.(?:ts|mjs|js))$/.exec(
        pkg.scripts?.start ?? "",
      );
      const flags = start?.[1]?.trim();
      return [
        {
          name,
          spec: pkg.wharf.dev,
          nodeArgs: [...(flags ? flags.split(" ") : []), start?.[2] ?? "src/main.ts"],
        },
      ];
    });
}

const all = devApps();
const only = process.argv.slice(2);
const unknown = only.filter((name) => !all.some((app) => app.name === name));
if (unknown.length > 0)
  fail(`no app named ${unknown.join(", ")}; the apps are: ${all.map((app) => app.name).join(", ")}`);
const apps = only.length === 0 ? all : all.filter((app) => only.includes(app.name));

const data = resolve(process.env.WHARF_DATA_DIR ?? join(root, "data"));
const offset = (() => {
  try {
    return parseOffset(
      process.env.WHARF_DEV_PORT_OFFSET,
      apps.map((app) => app.spec.env ?? {}),
    );
  } catch (error) {
    return fail((error as Error).message);
  }
})();
mkdirSync(data, { recursive: true });
const secretFile = join(data, ".dev-secret");
if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString("hex"), { mode: 0o600 });
const vars: Record<string, string> = {
  DATA: data,
  ROOT: root,
  DEV_SECRET: readFileSync(secretFile, "utf8").trim(),
};
const expand = (value: string) => value.replace(/\$\{(\w+)\}/g, (_, name: string) => vars[name] ?? "");

function listening(address: string): Promise<boolean> {
  const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.split(":").pop())];
  return new Promise((done) => {
    const socket = connect({ host, port, timeout: 1000 });
    const end = (up: boolean) => {
      socket.destroy();
      done(up);
    };
    socket.once("connect", () => end(true));
    socket.once("error", () => end(false));
    socket.once("timeout", () => end(false));
  });
}

const children: ChildProcess[] = [];
let stopping = false;
let failure: number | undefined;
const stop = (signal: NodeJS.Signals) => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill(signal);
};
const onSignal = () => {
  if (stopping) {
    process.stderr.write("wharf start: second signal, killing the apps\n");
    stop("SIGKILL");
    process.exit(1);
  }
  stopping = true;
  stop("SIGTERM");
  if (children.length === 0) process.exit(0);
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
process.on("SIGHUP", onSignal);
process.on("exit", () => stop("SIGTERM"));

const envs = new Map(
  apps.map((app) => [
    app.name,
    Object.fromEntries(Object.entries(app.spec.env ?? {}).map(([k, v]) => [k, expand(v)])),
  ]),
);
for (const app of apps) {
  const env = envs.get(app.name) ?? {};
  if (app.spec.note) process.stdout.write(`[${app.name}] ${shiftNote(expand(app.spec.note), env, offset)}\n`);
  for (const [address, command] of Object.entries(app.spec.needs ?? {}))
    if (!(await listening(address)))
      process.stdout.write(
        `[${app.name}] nothing listens on ${address}: run \`${command}\` (until then it answers 503)\n`,
      );
}

for (const app of apps.filter((a) => a.spec.serve !== false && !stopping)) {
  const child = spawn(process.execPath, app.nodeArgs, {
    cwd: join(root, "apps", app.name),
    env: { ...process.env, ...shiftEnv(envs.get(app.name) ?? {}, offset), WHARF_DEV: "1" },
    stdio: ["ignore", "inherit", "inherit"],
    // Own process group: a terminal's Ctrl-C reaches only this script, which stops each app once.
    detached: true,
  });
  child.on("exit", (code, signal) => {
    if (!stopping) {
      // An app that stops on its own (a busy port, a bad setting) stops the others: all or nothing.
      process.stderr.write(`[${app.name}] exited (${code ?? signal}); stopping the others\n`);
      stopping = true;
      stop("SIGTERM");
    }
    if (code !== 0) failure ??= typeof code === "number" ? code : 1;
    if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) process.exit(failure ?? 0);
  });
  children.push(child);
}
if (children.length === 0) process.exit(0);
