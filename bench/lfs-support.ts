/**
 * Shared pieces of the lfs-router benchmarks: the router as its own process (`src/main.ts`), a
 * plain static file server (PUT writes a file, GET streams it) as the reference on the same disk,
 * token minting, and LFS batch calls.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { Agent, request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createIssuer } from "@wharf/auth-jwt";

export const root = resolve(import.meta.dirname, "..");
export const secret = "lfs-bench-secret-0123456789";

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen({ port: 0, host: "127.0.0.1" }, () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

export async function scratch(prefix: string): Promise<{ path: string; dispose(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, dispose: () => rm(path, { recursive: true, force: true }) };
}

export interface Running {
  readonly url: string;
  /** The server's process id (for `cpuSeconds`). */
  readonly pid: number;
  stop(): Promise<void>;
}

/** User + system CPU seconds a live process has used so far (Linux `/proc`; NaN elsewhere). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat(5) (utime, stime), counted after the command name: 12 and 13 here.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

async function waitFor(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${url}: process exited with ${child.exitCode}`);
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} did not come up`);
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((done) => {
      if (child.exitCode !== null) return done();
      child.once("exit", () => done());
      child.kill("SIGTERM");
    });
}

/**
 * lfs-router on `storageUrl`, in its own process. `LFS_BENCH_MAIN` (a path) runs another copy of
 * its `main.ts` instead, e.g. an older revision exported below `apps/lfs-router/`, for before/after.
 * `LFS_BENCH_ROUTER_NODE_OPTIONS` adds node flags to the router alone (e.g. `--cpu-prof`).
 */
export async function startRouter(env: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const main = process.env.LFS_BENCH_MAIN ? resolve(process.env.LFS_BENCH_MAIN) : "src/main.ts";
  // LFS_BENCH_ROUTER_WRAP: a command line to run the router under, for profiling (e.g.
  // `strace -f -c -o /tmp/router.strace`); the CPU times the benches print are then the wrapper's.
  const wrap = process.env.LFS_BENCH_ROUTER_WRAP?.split(" ").filter(Boolean) ?? [];
  const [command = process.execPath, ...args] = [...wrap, process.execPath, main];
  const child = spawn(command, args, {
    cwd: join(root, "apps/lfs-router"),
    env: {
      ...process.env,
      PORT: String(port),
      JWT_SECRET: secret,
      // The default level, as deployed: one JSON line per request (stdout goes nowhere here).
      LOG_LEVEL: "info",
      ...(process.env.LFS_BENCH_ROUTER_NODE_OPTIONS
        ? { NODE_OPTIONS: process.env.LFS_BENCH_ROUTER_NODE_OPTIONS }
        : {}),
      ...env,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/healthz`, child);
  return { url, pid: child.pid ?? 0, stop: stopper(child) };
}

const staticServer = `
const http = require("node:http"), fs = require("node:fs"), path = require("node:path");
const dir = process.argv[1];
http.createServer((req, res) => {
  const [pathname, query] = req.url.split("?");
  const file = path.join(dir, path.basename(pathname));
  if (req.method === "PUT") {
    const tmp = file + ".tmp";
    // flush: fsync before close, as a durable server does (?nosync skips it).
    const out = fs.createWriteStream(tmp, { flush: query !== "nosync" });
    req.pipe(out);
    out.on("close", () => fs.rename(tmp, file, (err) => { res.writeHead(err ? 500 : 200); res.end(); }));
    out.on("error", () => { res.writeHead(500); res.end(); });
  } else {
    fs.stat(file, (err, st) => {
      if (err) { res.writeHead(404); return res.end(); }
      res.writeHead(200, { "Content-Length": st.size });
      fs.createReadStream(file, { highWaterMark: 1 << 20 }).pipe(res);
    });
  }
}).listen(Number(process.argv[2]), "127.0.0.1");
`;

/**
 * The reference: a plain Node static file server over `dir`. PUT writes a temp file, fsyncs it
 * (`?nosync`: does not) and renames it into place; GET streams the file in 1 MiB reads.
 */
export async function startStaticServer(dir: string): Promise<Running> {
  const port = await freePort();
  const child = spawn(process.execPath, ["-e", staticServer, dir, String(port)], { stdio: "inherit" });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/probe`, child);
  return { url, pid: child.pid ?? 0, stop: stopper(child) };
}

export async function basicAuth(user = "bench", scope = "*:write"): Promise<string> {
  const issuer = createIssuer({ algorithm: "HS256", secret });
  const token = await issuer.issue({ username: user, scope }, { expiresIn: "1h" });
  return `Basic ${Buffer.from(`${user}:${token}`).toString("base64")}`;
}

export interface Action {
  href: string;
  header?: Record<string, string>;
}

export interface BatchObject {
  oid: string;
  size: number;
  actions?: Record<string, Action>;
  error?: { code: number; message: string };
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: Buffer;
}

export interface HttpClient {
  request(
    url: string,
    options: { method: string; headers?: Record<string, string>; body?: Uint8Array | string },
  ): Promise<HttpAnswer>;
  close(): void;
}

/**
 * A lean HTTP/1.1 client on keep-alive connections (as git-lfs's Go client reuses its
 * connections), so the client's own cost stays small next to the server's on a 2-core machine.
 */
export function keepAliveClient(maxSockets = 8): HttpClient {
  const agent = new Agent({ keepAlive: true, maxSockets });
  return {
    request: (url, options) =>
      new Promise((done, fail) => {
        const body = options.body === undefined ? undefined : Buffer.from(options.body);
        const req = httpRequest(
          url,
          {
            method: options.method,
            agent,
            headers: { ...options.headers, ...(body ? { "Content-Length": String(body.length) } : {}) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
            res.on("error", fail);
          },
        );
        req.on("error", fail);
        req.end(body);
      }),
    close: () => agent.destroy(),
  };
}

const sharedClient = keepAliveClient();

export async function batch(
  url: string,
  repo: string,
  auth: string,
  operation: "upload" | "download",
  objects: { oid: string; size: number }[],
  client: HttpClient = sharedClient,
): Promise<BatchObject[]> {
  const res = await client.request(`${url}/${repo}/info/lfs/objects/batch`, {
    method: "POST",
    headers: {
      Authorization: auth,
      Accept: "application/vnd.git-lfs+json",
      "Content-Type": "application/vnd.git-lfs+json",
    },
    body: JSON.stringify({ operation, objects, transfers: ["basic"], hash_algo: "sha256" }),
  });
  if (res.status !== 200) throw new Error(`batch ${operation}: ${res.status} ${res.body.toString()}`);
  return (JSON.parse(res.body.toString()) as { objects: BatchObject[] }).objects;
}

export const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

/** The shared dev Ceph (`.wharf/dev-services.env`) or `WHARF_S3_*` from the environment, if any. */
export function cephEnv():
  | { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string }
  | undefined {
  const vars: Record<string, string | undefined> = { ...process.env };
  const file = join(root, ".wharf/dev-services.env");
  if (!vars.WHARF_S3_ENDPOINT && existsSync(file))
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
      if (match) vars[match[1] as string] = (match[2] as string).replace(/^"|"$/g, "");
    }
  const { WHARF_S3_ENDPOINT, WHARF_S3_REGION, WHARF_S3_ACCESS_KEY_ID, WHARF_S3_SECRET_ACCESS_KEY } = vars;
  if (!WHARF_S3_ENDPOINT || !WHARF_S3_ACCESS_KEY_ID || !WHARF_S3_SECRET_ACCESS_KEY) return undefined;
  return {
    endpoint: WHARF_S3_ENDPOINT,
    region: WHARF_S3_REGION ?? "us-east-1",
    accessKeyId: WHARF_S3_ACCESS_KEY_ID,
    secretAccessKey: WHARF_S3_SECRET_ACCESS_KEY,
  };
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
