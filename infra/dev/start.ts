/**
 * `./wharf start`: every app on the embedded default (local disk under ./data), no other service.
 * Each app opts in through its package.json:
 *   "wharf": { "dev": { "env": { "PORT": "8101", "STORAGE_URL": "${DATA}/lfs" }, "note": "…" } }
 * `${DATA}` is the absolute ./data folder, `${DEV_SECRET}` a random secret kept in ./data/.dev-secret,
 * `${ROOT}` the repository. Apps get WHARF_DEV=1 and print their own endpoint and credentials.
 * Ctrl-C (or SIGTERM) stops them all gracefully.
 *
 * WHARF_DATA_DIR moves ./data; WHARF_DEV_PORT_OFFSET=N shifts every port in the profiles (variables
 * whose name contains PORT and whose value is a port number ≥ 1024), to run a second copy.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

interface DevSpec {
  env?: Record<string, string>;
  note?: string;
  /** false: the app is a CLI; only its note is printed. */
  serve?: boolean;
}

const root = resolve(import.meta.dirname, "../..");
const data = resolve(process.env.WHARF_DATA_DIR ?? join(root, "data"));
const portOffset = Number(process.env.WHARF_DEV_PORT_OFFSET ?? 0);
mkdirSync(data, { recursive: true });
const secretFile = join(data, ".dev-secret");
if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString("hex"), { mode: 0o600 });
const vars: Record<string, string> = {
  DATA: data,
  ROOT: root,
  DEV_SECRET: readFileSync(secretFile, "utf8").trim(),
};
const only = new Set(process.argv.slice(2));

const expand = (value: string) => value.replace(/\$\{(\w+)\}/g, (_, name: string) => vars[name] ?? "");
const isOwnPort = (name: string, value: string) =>
  name.includes("PORT") && /^\d+$/.test(value) && Number(value) >= 1024;

/** Shifts the profile's own ports, both as values and inside URLs such as PUBLIC_URL. */
function shiftPorts(env: Record<string, string>): Record<string, string> {
  if (portOffset === 0) return env;
  const own = new Set(
    Object.entries(env).flatMap(([name, value]) => (isOwnPort(name, value) ? [value] : [])),
  );
  return Object.fromEntries(
    Object.entries(env).map(([name, value]) => [
      name,
      isOwnPort(name, value)
        ? String(Number(value) + portOffset)
        : value.replace(/:(\d{4,5})\b/g, (match, port: string) =>
            own.has(port) ? `:${Number(port) + portOffset}` : match,
          ),
    ]),
  );
}
const children: ChildProcess[] = [];

for (const name of readdirSync(join(root, "apps")).sort()) {
  const manifest = join(root, "apps", name, "package.json");
  if (!existsSync(manifest)) continue;
  const pkg = JSON.parse(readFileSync(manifest, "utf8")) as {
    scripts?: { start?: string };
    wharf?: { dev?: DevSpec };
  };
  const spec = pkg.wharf?.dev;
  // Node flags and entry file from the app's own `start` script (`node --flag … src/main.ts`), so
  // both run alike.
  const start = /^node((?: --[\w-]+(?:=\S+)?)*) ([\w./-]+\.(?:ts|mjs|js))$/.exec(pkg.scripts?.start ?? "");
  const nodeFlags = start?.[1]?.trim();
  const entry = start?.[2] ?? "src/main.ts";
  if (!spec || (only.size > 0 && !only.has(name))) continue;
  if (spec.note) process.stdout.write(`[${name}] ${expand(spec.note)}\n`);
  if (spec.serve === false) continue;
  const env = shiftPorts(Object.fromEntries(Object.entries(spec.env ?? {}).map(([k, v]) => [k, expand(v)])));
  const child = spawn(process.execPath, [...(nodeFlags ? nodeFlags.split(" ") : []), entry], {
    cwd: join(root, "apps", name),
    env: { ...process.env, ...env, WHARF_DEV: "1" },
    stdio: ["ignore", "inherit", "inherit"],
    // Own process group: a terminal's Ctrl-C reaches only this script, which stops each app once.
    detached: true,
  });
  child.on("exit", (code, signal) => {
    if (!stopping) process.stderr.write(`[${name}] exited (${code ?? signal})\n`);
  });
  children.push(child);
}

if (children.length === 0) process.stdout.write("no gateway to start yet\n");

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill("SIGTERM");
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
process.on("SIGHUP", stop);
process.on("exit", () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
});
