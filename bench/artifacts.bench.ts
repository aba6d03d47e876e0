/**
 * `pnpm bench artifacts`: what the production artifacts (`./wharf build`) cost against running the
 * sources, per app: the artifact's size on disk, the cold start to the first healthy answer
 * (`/healthz`; `--help` for tycho), the idle resident set once healthy, and the image size when
 * infra/podman/build.sh built one. The sources' size is what shipping them takes: the folder
 * `pnpm --filter <app> deploy --prod` makes (which cannot start: Node strips no types under
 * node_modules, the reason for the artifacts). Local disk storage, nothing else running; the median of
 * `--runs N` (default 5) starts after one warm-up start of each, so both read a warm page cache and
 * the sources' own compile cache (ftps-gateway and tycho turn it on) is warm too, as in development.
 */
import { execFileSync, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "@wharf/test-kit";

const root = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({ options: { runs: { type: "string", default: "5" } } });
const runs = Number(values.runs);

interface AppCase {
  app: string;
  /** How the sources run (the package's `start` script). */
  sources: string[];
  /** Extra node flags the artifact gets where it is deployed (the image's ENTRYPOINT). */
  nodeFlags: string[];
  env(data: string, ports: { http: number; ftp: number }): Record<string, string>;
  /** HTTP port to poll for /healthz; undefined: a CLI run to exit with --help. */
  health?: "http";
}

const secret = "bench-artifacts-secret-0123456789abcdef";
const publicKey = generateKeyPairSync("rsa", { modulusLength: 2048 })
  .publicKey.export({ type: "spki", format: "pem" })
  .toString();

const cases: AppCase[] = [
  {
    app: "lfs-router",
    sources: ["src/main.ts"],
    nodeFlags: [],
    health: "http",
    env: (data, p) => ({ PORT: String(p.http), STORAGE_URL: data, JWT_SECRET: secret }),
  },
  {
    app: "bitstore",
    sources: ["src/main.ts"],
    nodeFlags: [],
    health: "http",
    env: (data, p) => ({
      PORT: String(p.http),
      HOST: "127.0.0.1",
      PUBLIC_URL: `http://127.0.0.1:${p.http}`,
      STORAGE_URL: data,
      STORAGE_ACCESS_KEY_ID: "bench",
      STORAGE_SECRET_ACCESS_KEY: secret,
      DATAHUB_PUBLIC_KEY: publicKey,
    }),
  },
  {
    app: "ftps-gateway",
    sources: ["--max-semi-space-size=1", "bin/ftps-gateway.mjs"],
    nodeFlags: ["--max-semi-space-size=1"],
    health: "http",
    env: (data, p) => ({
      STORAGE_URL: data,
      FTP_LISTEN_HOST: "127.0.0.1",
      FTP_COMMAND_PORT: String(p.ftp),
      HEALTHCHECK_PORT: String(p.http),
      HEALTHCHECK_HOST: "127.0.0.1",
      FTP_USERS__1__LOGIN: "bench",
      FTP_USERS__1__PASSWORD: secret,
    }),
  },
  {
    app: "registry-usage",
    sources: ["src/main.ts"],
    nodeFlags: [],
    health: "http",
    env: (data, p) => ({
      PORT: String(p.http),
      STORAGE_URL: data,
      REGISTRY_USAGE_JWT_SECRET_KEY: secret,
      // Nothing listens there: the first scan fails in the background, the API still answers.
      REGISTRY_USAGE_REGISTRY_REGISTRY_BASE_URL: "http://127.0.0.1:9/",
      REGISTRY_USAGE_REGISTRY_REFRESH_INTERVAL: "1 hour",
      REGISTRY_USAGE_LDAP_HOST: "ldap://127.0.0.1:9",
    }),
  },
  { app: "tycho", sources: ["bin/tycho.mjs"], nodeFlags: [], env: (data) => ({ TYCHO_STORAGE_URL: data }) },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function sizeOf(path: string): number {
  const stat = lstatSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}

function rssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kb) / 1024;
}

async function healthy(url: string, deadline: number): Promise<void> {
  while (performance.now() < deadline) {
    const ok = await fetch(url).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`${url} not healthy in time`);
}

/** One start: milliseconds to the first healthy answer (or to exit for a CLI), and the idle RSS. */
async function start(c: AppCase, args: string[], cwd: string): Promise<{ ms: number; rss: number }> {
  const data = mkdtempSync(join(tmpdir(), `bench-artifacts-${c.app}-`));
  const ports = { http: await freePort(), ftp: await freePort() };
  const compileCache = join(tmpdir(), `bench-artifacts-cache-${c.app}`);
  const t0 = performance.now();
  const child = spawn(process.execPath, [...args, ...(c.health ? [] : ["--help"])], {
    cwd,
    env: {
      PATH: process.env.PATH,
      NODE_COMPILE_CACHE: compileCache,
      LOG_LEVEL: "warn",
      ...c.env(data, ports),
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  try {
    if (!c.health) {
      const code = await exited;
      if (code !== 0) throw new Error(`${c.app} --help exited ${code}`);
      return { ms: performance.now() - t0, rss: Number.NaN };
    }
    await healthy(`http://127.0.0.1:${ports.http}/healthz`, t0 + 30_000);
    const ms = performance.now() - t0;
    await new Promise((resolve) => setTimeout(resolve, 1000)); // idle: let start-up garbage settle
    return { ms, rss: rssMiB(child.pid!) };
  } finally {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(data, { recursive: true, force: true });
  }
}

async function measure(c: AppCase, args: string[], cwd: string) {
  await start(c, args, cwd);
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(await start(c, args, cwd));
  return { ms: median(samples.map((s) => s.ms)), rss: median(samples.map((s) => s.rss)) };
}

function deployedSourcesSize(app: string): number {
  const target = mkdtempSync(join(tmpdir(), `bench-artifacts-deploy-${app}-`));
  try {
    execFileSync("pnpm", ["--filter", `@wharf/${app}`, "deploy", "--prod", "--legacy", target], {
      cwd: root,
      stdio: "ignore",
    });
    return sizeOf(target);
  } finally {
    rmSync(target, { recursive: true, force: true });
  }
}

function imageSize(app: string): string {
  const env = { ...process.env, CONTAINERS_CONF: join(root, "infra/podman/containers.conf") };
  try {
    const inspect = (ref: string) =>
      Number(execFileSync("podman", ["image", "inspect", "--format", "{{.Size}}", ref], { env }).toString());
    const image = inspect(`localhost/wharf/${app}:latest`);
    const base = inspect("localhost/wharf/node:24-bookworm-slim");
    return `${(image / 1e6).toFixed(0)} MB (+${((image - base) / 1e6).toFixed(1)} MB over the base)`;
  } catch {
    return "not built (infra/podman/build.sh --stand-in)";
  }
}

execFileSync(join(root, "wharf"), ["build"], { stdio: ["ignore", "ignore", "inherit"] });
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
let lfsRatio = Number.NaN;
let lfsMs = Number.NaN;
for (const c of cases) {
  const appDir = join(root, "apps", c.app);
  const dist = join(appDir, "dist");
  const sources = await measure(c, c.sources, appDir);
  const artifact = await measure(c, [...c.nodeFlags, dist], tmpdir());
  const what = c.health ? "to /healthz" : "for --help";
  process.stdout.write(
    [
      `${c.app}:`,
      `  artifact ${mib(sizeOf(dist))} (sources: pnpm deploy --prod ${mib(deployedSourcesSize(c.app))}; lib/main.js ${mib(sizeOf(join(dist, "lib/main.js")))}, its map ${mib(sizeOf(join(dist, "lib/main.js.map")))})`,
      `  cold start ${what}: ${artifact.ms.toFixed(0)} ms (sources ${sources.ms.toFixed(0)} ms, ${(artifact.ms / sources.ms).toFixed(2)}x)`,
      ...(c.health
        ? [
            `  idle RSS: ${artifact.rss.toFixed(0)} MiB (sources ${sources.rss.toFixed(0)} MiB, ${(artifact.rss / sources.rss).toFixed(2)}x)`,
          ]
        : []),
      `  image: ${imageSize(c.app)}`,
      "",
    ].join("\n"),
  );
  if (c.app === "lfs-router") {
    lfsMs = artifact.ms;
    lfsRatio = artifact.ms / sources.ms;
  }
}
process.stdout.write(
  `artifacts: ${lfsMs.toFixed(0)} ms lfs-router cold start to /healthz (${lfsRatio.toFixed(2)}x node src/main.ts)\n`,
);
