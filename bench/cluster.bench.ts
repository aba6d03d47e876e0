/**
 * Load on two replicas of each server behind HAProxy (`./wharf cluster`'s setup: Ceph RGW, HAProxy on
 * deploy/haproxy/haproxy.cfg), against one replica of each in the same run (replica A addressed
 * directly). Three loads, each for `--seconds` (default 20):
 *   lfs:       64 concurrent git-lfs-style uploads (batch + PUT, proxy mode) of 64 KiB..64 MiB objects
 *   ftp:       50 FTP sessions doing STOR then RETR of 16 MiB, in a loop
 *   authorize: 200 concurrent bitstore /authorize calls of 10 files each, in a loop
 * For each: throughput, p50 and p99 latency, errors, and per replica peak RSS and open descriptors.
 * `--soak MINUTES` then runs the three loads together and prints RSS and descriptors per replica for
 * the first and the last minute. `--profile` then restarts the replicas with `--cpu-prof`, runs the
 * three loads together for `--seconds`, and prints the top 10 frames by self time of the busiest
 * replica (most CPU time outside idle) under that mixed load.
 * Needs the dev services (infra/lib/dev-services.sh start).
 *   pnpm bench cluster [--seconds N] [--soak MINUTES] [--profile] [--only lfs,ftp,authorize] [--keep]
 *   pnpm bench cluster --clean     (deletes the buckets of runs that did not end: cluster-bench-*)
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Readable, Writable } from "node:stream";
import { createIssuer } from "@wharf/auth-jwt";
import { emptyBucket } from "@wharf/test-kit";
import { Client } from "basic-ftp";
import {
  type ClusterState,
  planCluster,
  type Replica,
  startHaproxy,
  startReplica,
  stopCluster,
  stopPid,
  waitBalanced,
} from "../infra/cluster/cluster.ts";
import { cephEnv, percentile } from "./lfs-support.ts";

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const seconds = option("seconds", 20);
const soakMinutes = option("soak", 0);
const profile = args.includes("--profile");
/** `--keep`: leave the cluster's folder (replica logs, profiles) in place and print where it is. */
const keep = args.includes("--keep");
/** `--only ftp,lfs`: run only these loads (default all three). */
const only = args.includes("--only") ? args[args.indexOf("--only") + 1]!.split(",") : undefined;

interface Outcome {
  ok: number;
  errors: number;
  firstError?: string;
  bytes: number;
  latencies: number[];
}

const newOutcome = (): Outcome => ({ ok: 0, errors: 0, bytes: 0, latencies: [] });

/** Runs `workers` loops of `step` until `until`; each step's time and outcome is recorded. */
async function drive(
  workers: number,
  until: number,
  step: (worker: number) => Promise<number>,
): Promise<Outcome> {
  const outcome = newOutcome();
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (Date.now() < until) {
        const t0 = performance.now();
        try {
          // Not `outcome.bytes += await …`: that reads the sum before the await and loses the
          // other workers' bytes added meanwhile.
          const bytes = await step(worker);
          outcome.bytes += bytes;
          outcome.ok++;
          outcome.latencies.push(performance.now() - t0);
        } catch (error) {
          outcome.errors++;
          outcome.firstError ??= describe(error);
        }
      }
    }),
  );
  return outcome;
}

/** An error's message and its causes' (fetch's "fetch failed" says nothing without them). */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (
    let e = error as { message?: string; code?: string; cause?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  )
    parts.push(`${e.message ?? String(e)}${e.code ? ` (${e.code})` : ""}`);
  return parts.join(": ");
}

/** Peak RSS (VmHWM) and open descriptors of each replica, sampled every 500 ms. */
function sampler(replicas: Replica[]) {
  const peak = new Map<number, { rss: number; fds: number }>();
  const timer = setInterval(() => {
    for (const r of replicas) {
      if (r.pid === undefined || !existsSync(`/proc/${r.pid}`)) continue;
      const status = readFileSync(`/proc/${r.pid}/status`, "utf8");
      const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
      const fds = readdirSync(`/proc/${r.pid}/fd`).length;
      const seen = peak.get(r.pid) ?? { rss: 0, fds: 0 };
      peak.set(r.pid, { rss: Math.max(seen.rss, rss), fds: Math.max(seen.fds, fds) });
    }
  }, 500);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/** Requests sent again because their connection closed before any answer (see `labelled`). */
const retried = { count: 0 };

/**
 * `send`'s response; a failure to get one names the step. A request whose pooled keep-alive
 * connection turns out closed before any answer ("other side closed", a reset, EPIPE) is sent once
 * more, as git-lfs retries a transfer (lfs.transfer.maxretries), and counted in `retried`, which is
 * printed. It happened in every soak while HAProxy closed idle client connections after
 * 30 s while the replicas' `Keep-Alive: timeout=65` told clients to keep them (the balancer now keeps
 * them 100 s, deploy/haproxy/haproxy.cfg), so a non-zero count is a finding, not noise.
 */
async function labelled<T>(what: string, send: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      const e = error as { code?: string; cause?: { code?: string } };
      const code = e.cause?.code ?? e.code;
      if ((code === "UND_ERR_SOCKET" || code === "ECONNRESET" || code === "EPIPE") && attempt === 0) {
        retried.count++;
        // When and where, to match against the balancer's log (the first few of each run).
        if (retried.count <= 10)
          process.stderr.write(`cluster: ${what} sent again after ${code} at ${new Date().toISOString()}\n`);
        continue;
      }
      throw new Error(what, { cause: error });
    }
  }
}

/** An error naming the request, the status and the start of the body (the app's or HAProxy's). */
async function failed(what: string, res: Response): Promise<Error> {
  const body = await res.text().catch(() => "");
  return new Error(`${what} ${res.status}: ${body.slice(0, 200)}`);
}

const mib = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;

async function main() {
  const ceph = cephEnv();
  if (!ceph) throw new Error("cluster: start the dev services first (infra/lib/dev-services.sh start)");
  if (args.includes("--clean")) return cleanLeftovers(ceph);
  const dir = await mkdtemp(join(tmpdir(), "wharf-cluster-bench-"));
  const bucket = `cluster-bench-${Date.now().toString(36)}`;
  const cluster = await planCluster({
    dir,
    bucket,
    services: {
      s3: ceph,
      ldap: { url: process.env.WHARF_LDAP_URL ?? "ldap://127.0.0.1:7489", baseDn: "dc=example,dc=org" },
      registry: { url: process.env.WHARF_REGISTRY_URL ?? "http://127.0.0.1:7495" },
    },
    settings: {
      "lfs-router": { LOG_LEVEL: process.env.BENCH_LFS_LOG ?? "warn" },
      bitstore: { LOG_LEVEL: "warn" },
      "ftps-gateway": { LOG_LEVEL: process.env.BENCH_FTP_LOG ?? "warn" },
    },
  });
  const store = await benchBucket(ceph, bucket);
  const stopSweep = store.sweep("lfs/", 20_000);
  try {
    // With --only (and no soak or profile, which run every load): only the apps those loads use.
    const loads = (["lfs", "ftp", "authorize"] as const).filter((l) => !only || only.includes(l));
    const used = new Set(
      only && !soakMinutes && !profile ? loads.map(appOf) : cluster.replicas.map((r) => r.app),
    );
    await Promise.all(cluster.replicas.filter((r) => used.has(r.app)).map((r) => startReplica(r)));
    await startHaproxy(cluster);
    await waitBalanced(cluster);
    const rows: string[] = [];
    const figures: Record<string, { one: number; two: number }> = {};
    for (const load of loads) {
      for (const target of ["one", "two"] as const) {
        const peak = sampler(cluster.replicas);
        const lag = monitorEventLoopDelay({ resolution: 20 });
        lag.enable();
        retried.count = 0;
        const t0 = performance.now();
        const outcome = await runLoad(cluster, load, target, Date.now() + seconds * 1000);
        const elapsed = (performance.now() - t0) / 1000;
        lag.disable();
        const peaks = peak.stop();
        const sorted = outcome.latencies.sort((a, b) => a - b);
        const perReplica = cluster.replicas
          .filter((r) => r.app === appOf(load) && (target === "two" || r.name === "a"))
          .map((r) => `${r.name}: ${mib(peaks.get(r.pid!)?.rss ?? 0)} / ${peaks.get(r.pid!)?.fds ?? 0} fds`)
          .join(", ");
        const rate = outcome.ok / elapsed;
        const figure = figures[load] ?? { one: 0, two: 0 };
        figure[target] = rate;
        figures[load] = figure;
        rows.push(
          `| ${load} | ${target === "one" ? "1 replica" : "2 + HAProxy"} | ${rate.toFixed(1)}/s | ${(outcome.bytes / elapsed / 1048576).toFixed(1)} MiB/s | ${percentile(sorted, 50).toFixed(0)} ms | ${percentile(sorted, 99).toFixed(0)} ms | ${outcome.errors}${retried.count ? ` (${retried.count} sent again)` : ""} | ${perReplica} |`,
        );
        process.stderr.write(
          `${rows.at(-1)} bench's own event-loop delay max ${(lag.max / 1e6).toFixed(0)} ms, ${retried.count} requests sent again on a closed connection${outcome.firstError ? `; first error: ${outcome.firstError}` : ""}\n`,
        );
      }
    }
    process.stdout.write(
      `\nload average ${loadavg()
        .map((n) => n.toFixed(1))
        .join(" ")} on ${availableParallelism()} cores at the end of the loads\n`,
    );
    process.stdout.write(
      `\n| load | target | ops/s | throughput | p50 | p99 | errors | peak RSS / fds per replica |\n|---|---|---|---|---|---|---|---|\n${rows.join("\n")}\n`,
    );
    if (soakMinutes > 0) await soak(cluster, soakMinutes);
    if (profile) await profileMixed(cluster, join(dir, "profiles"));
    const a = figures.authorize;
    if (a)
      process.stdout.write(
        `cluster: ${a.two.toFixed(0)} authorize/s through 2 replicas (${(a.two / a.one).toFixed(2)}x 1 replica)\n`,
      );
  } finally {
    await stopCluster(cluster);
    await stopSweep();
    process.stderr.write(
      `cluster: ${store.swept.objects} LFS objects swept during the loads${store.swept.failures ? ` (${store.swept.failures} sweeps failed)` : ""}\n`,
    );
    await store.dispose();
    if (keep) process.stderr.write(`cluster: logs and profiles kept in ${dir}\n`);
    else await rm(dir, { recursive: true, force: true });
  }
}

const appOf = (load: "lfs" | "ftp" | "authorize") =>
  load === "lfs" ? "lfs-router" : load === "ftp" ? "ftps-gateway" : "bitstore";

async function runLoad(
  cluster: ClusterState,
  load: "lfs" | "ftp" | "authorize",
  target: "one" | "two",
  until: number,
) {
  const a = (app: Replica["app"]) => cluster.replicas.find((r) => r.app === app && r.name === "a")!;
  if (load === "lfs")
    return lfsLoad(cluster, target === "one" ? a("lfs-router").url : cluster.urls.lfs, until);
  if (load === "ftp") {
    const ftp = target === "one" ? a("ftps-gateway").ftp! : cluster.urls.ftp;
    return ftpLoad(cluster, ftp, until);
  }
  return authorizeLoad(cluster, target === "one" ? a("bitstore").url : cluster.urls.bitstore, until);
}

const sizes = [64 * 1024, 64 * 1024, 1024 * 1024, 1024 * 1024, 8 * 1024 * 1024, 64 * 1024 * 1024];
const pool = randomBytes(64 * 1024 * 1024);
/**
 * The SHA-256 state after each size's shared prefix, so that an object's oid costs its 32-byte unique
 * tail: hashing 64 MiB per upload on the bench's one thread stalled its event loop for seconds, long
 * enough for idle keep-alive sockets to outlive the server's timeout (fetch then failed with "other
 * side closed" on requests the server never saw).
 */
const prefixHashes = new Map(
  [...new Set(sizes)].map((size) => [size, createHash("sha256").update(pool.subarray(0, size - 32))]),
);

/**
 * Keep-alive connections for the LFS PUTs (as git-lfs keeps them), as many as there are workers.
 * Idle ones close after 60 s: Node's agent takes the server's `Keep-Alive: timeout=65` hint only to
 * shorten a timeout of its own, and without one it kept idle sockets until HAProxy closed them (100 s),
 * the next PUT on each failing with EPIPE (five at the start of a soak, after the rows between).
 */
const putAgent = new HttpAgent({ keepAlive: true, maxSockets: 256, timeout: 60_000 });

/**
 * An HTTP PUT of `parts` (`length` bytes in all, sent as they are) and its answer. Not fetch: it
 * copies a Uint8Array body twice (WebIDL, then its stream) and a Buffer.concat made each body once
 * more; those copies and their garbage took 70% of the bench's CPU and stalled its event loop for
 * seconds, starving the FTP sessions the same process drives in the mixed load.
 */
function putParts(
  href: string,
  headers: Record<string, string>,
  parts: Buffer[],
  length: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      href,
      { method: "PUT", headers: { ...headers, "Content-Length": String(length) }, agent: putAgent },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    for (const part of parts) req.write(part);
    req.end();
  });
}

async function lfsLoad(cluster: ClusterState, base: string, until: number): Promise<Outcome> {
  const token = await createIssuer({ algorithm: "HS256", secret: cluster.secrets.jwt }).issue(
    { username: "bench", scope: "*:write" },
    { expiresIn: "1h", subject: "bench" },
  );
  const authorization = `Basic ${Buffer.from(`bench:${token}`).toString("base64")}`;
  let n = 0;
  return drive(64, until, async (worker) => {
    const size = sizes[(n++ + worker) % sizes.length]!;
    // A unique object: the pool's bytes with a distinct 32-byte tail.
    const tail = Buffer.from(randomBytes(16).toString("hex"));
    const body = [pool.subarray(0, size - 32), tail];
    const oid = prefixHashes.get(size)!.copy().update(tail).digest("hex");
    const batch = await labelled("batch", () =>
      fetch(`${base}/bench/repo/info/lfs/objects/batch`, {
        method: "POST",
        headers: {
          Authorization: authorization,
          Accept: "application/vnd.git-lfs+json",
          "Content-Type": "application/vnd.git-lfs+json",
        },
        body: JSON.stringify({ operation: "upload", objects: [{ oid, size }] }),
      }),
    );
    if (batch.status !== 200) throw await failed("batch", batch);
    type Action = { href: string; header?: Record<string, string> };
    const actions = (
      (await batch.json()) as { objects: Array<{ actions?: { upload?: Action; verify?: Action } }> }
    ).objects[0]!.actions;
    const upload = actions?.upload;
    if (!upload) return 0;
    const put = await labelled("put", () => putParts(upload.href, upload.header ?? {}, body, size));
    if (put.status !== 200) throw new Error(`put ${put.status}: ${put.body.slice(0, 200)}`);
    // As git-lfs does: the verify action, when the batch answer has one.
    const verifyAction = actions.verify;
    if (verifyAction) {
      const verify = await labelled("verify", () =>
        fetch(verifyAction.href, {
          method: "POST",
          headers: {
            ...verifyAction.header,
            Accept: "application/vnd.git-lfs+json",
            "Content-Type": "application/vnd.git-lfs+json",
          },
          body: JSON.stringify({ oid, size }),
        }),
      );
      if (verify.status !== 200) throw await failed("verify", verify);
      await verify.arrayBuffer();
    }
    return size;
  });
}

/** 50 FTP sessions, each logged in once and doing STOR then RETR of 16 MiB in a loop (a new session after an error). */
async function ftpLoad(cluster: ClusterState, target: { host: string; port: number }, until: number) {
  const body = pool.subarray(0, 16 * 1024 * 1024);
  const sessions: Array<Client | undefined> = [];
  const session = async (worker: number) => {
    const open = sessions[worker];
    if (open && !open.closed) return open;
    // Two minutes, not basic-ftp's 30 s: the gateway answers 226 once the object is in the store, so
    // a client that sent its last byte waits for the last parts to reach Ceph. In the soak (64 LFS
    // uploads and 50 FTP sessions on one Ceph, 2 cores) a 16 MiB upload took up to 55 s, and at 30 s
    // a fifth of the uploads timed out waiting for that 226. lftp waits 300 s (net:timeout), curl and
    // ftplib without limit.
    const client = new Client(120_000);
    await client.access({
      host: target.host,
      port: target.port,
      user: cluster.secrets.ftpUser,
      password: cluster.secrets.ftpPassword,
      secure: false,
    });
    sessions[worker] = client;
    return client;
  };
  try {
    return await drive(50, until, async (worker) => {
      const client = await session(worker);
      try {
        await client.uploadFrom(Readable.from([body]), `load-${worker}.bin`);
        let got = 0;
        await client.downloadTo(
          new Writable({
            write(chunk: Buffer, _e, done) {
              got += chunk.length;
              done();
            },
          }),
          `load-${worker}.bin`,
        );
        if (got !== body.length) throw new Error(`got ${got}`);
        return 2 * body.length;
      } catch (error) {
        client.close();
        throw error;
      }
    });
  } finally {
    for (const client of sessions) client?.close();
  }
}

async function authorizeLoad(cluster: ClusterState, base: string, until: number) {
  const issuer = createIssuer({ algorithm: "RS256", privateKey: cluster.bitstorePrivateKey });
  const token = await issuer.issue(
    { userid: "bench", service: "rawstore", permissions: { "datapackage-upload": true } },
    { expiresIn: 3600 },
  );
  const filedata = Object.fromEntries(
    Array.from({ length: 10 }, (_, i) => [
      `data/file-${i}.csv`,
      {
        length: 1000 + i,
        md5: createHash("md5").update(String(i)).digest("base64"),
        type: "text/csv",
        name: `file-${i}.csv`,
      },
    ]),
  );
  const request = JSON.stringify({ metadata: { owner: "bench", name: "ds" }, filedata });
  return drive(200, until, async () => {
    const res = await fetch(`${base}/rawstore/authorize`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Auth-Token": token },
      body: request,
    });
    if (res.status !== 200) throw await failed("authorize", res);
    await res.arrayBuffer();
    return 0;
  });
}

async function soak(cluster: ClusterState, minutes: number) {
  const end = Date.now() + minutes * 60_000;
  const samples: Array<{ minute: number; pid: number; name: string; rss: number; fds: number }> = [];
  /** Each replica's live memory (JS heap used + external, from its /metrics) by minute. */
  const live: Array<{ minute: number; pid: number; bytes: number }> = [];
  const timer = setInterval(() => {
    const minute = Math.floor((end - Date.now()) / 60_000);
    for (const r of cluster.replicas) {
      if (r.pid === undefined || !existsSync(`/proc/${r.pid}`)) continue;
      const pid = r.pid;
      const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
      samples.push({
        minute,
        pid,
        name: `${r.app}/${r.name}`,
        rss,
        fds: readdirSync(`/proc/${pid}/fd`).length,
      });
      fetch(`${r.url}/metrics`, { signal: AbortSignal.timeout(4000) })
        .then((res) => res.text())
        .then((text) => {
          const heap = /^\w*nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1];
          const external = /^\w*nodejs_external_memory_bytes (\S+)$/m.exec(text)?.[1];
          if (heap !== undefined && external !== undefined)
            live.push({ minute, pid, bytes: Number(heap) + Number(external) });
        })
        .catch(() => {});
    }
  }, 5000);
  retried.count = 0;
  process.stderr.write(`cluster: soak from ${new Date().toISOString()}\n`);
  const outcomes = await mixed(cluster, end);
  clearInterval(timer);
  const first = Math.max(...samples.map((s) => s.minute));
  const last = Math.min(...samples.map((s) => s.minute));
  const seconds = minutes * 60;
  process.stdout.write(
    `\nsoak ${minutes} min of the mixed load through HAProxy (load average at the end ${loadavg()[0]!.toFixed(1)}): ${Object.entries(
      outcomes,
    )
      .map(
        ([load, o]) =>
          `${load} ${(o.ok / seconds).toFixed(1)}/s, ${o.errors} errors${o.firstError ? ` (first: ${o.firstError})` : ""}`,
      )
      .join("; ")}; ${retried.count} LFS requests sent again on a closed connection\n`,
  );
  // RSS at its peak follows how many big uploads happen to overlap (each holds its part buffers), and
  // glibc keeps freed memory. "live" (the least heap used + external of a minute) is only a rough
  // second view: heap used counts garbage until a major GC, and external the part buffers in flight.
  process.stdout.write(
    "| replica | first minute RSS / fds (max), live (min) | last minute RSS / fds (max), live (min) |\n|---|---|---|\n",
  );
  for (const r of cluster.replicas) {
    const at = (minute: number) => {
      const list = samples.filter((s) => s.pid === r.pid && s.minute === minute);
      const least = live.filter((s) => s.pid === r.pid && s.minute === minute).map((s) => s.bytes);
      return `${mib(Math.max(0, ...list.map((s) => s.rss)))} / ${Math.max(0, ...list.map((s) => s.fds))}, ${least.length ? mib(Math.min(...least)) : "–"}`;
    };
    process.stdout.write(`| ${r.app}/${r.name} | ${at(first)} | ${at(last)} |\n`);
  }
}

/** The three loads at once through HAProxy, until `until`. */
async function mixed(cluster: ClusterState, until: number) {
  const [lfs, ftp, authorize] = await Promise.all([
    lfsLoad(cluster, cluster.urls.lfs, until),
    ftpLoad(cluster, cluster.urls.ftp, until),
    authorizeLoad(cluster, cluster.urls.bitstore, until),
  ]);
  return { lfs, ftp, authorize };
}

/**
 * Restarts every replica with `--cpu-prof` (one folder each), runs the mixed load for `--seconds`,
 * stops the replicas (the profiles are written at exit) and prints the busiest one's top frames.
 */
async function profileMixed(cluster: ClusterState, profiles: string) {
  await Promise.all(cluster.replicas.map((r) => stopPid(r.pid)));
  await Promise.all(
    cluster.replicas.map((r) =>
      // A loaded machine (the soak just ended) can take a while to start eight processes at once.
      startReplica(r, 120_000, ["--cpu-prof", `--cpu-prof-dir=${join(profiles, `${r.app}-${r.name}`)}`]),
    ),
  );
  await waitBalanced(cluster);
  const outcomes = await mixed(cluster, Date.now() + seconds * 1000);
  await Promise.all(cluster.replicas.map((r) => stopPid(r.pid)));
  process.stdout.write(
    `\nprofiled mixed load, ${seconds} s: ${Object.entries(outcomes)
      .map(
        ([load, o]) =>
          `${load} ${(o.ok / seconds).toFixed(1)}/s, ${o.errors} errors${o.firstError ? ` (first: ${o.firstError})` : ""}`,
      )
      .join("; ")}\n`,
  );
  printProfile(profiles);
}

/** Top 10 frames by self time (share of the busy time) of the busiest replica's CPU profile. */
function printProfile(profiles: string) {
  if (!existsSync(profiles)) return;
  const files = readdirSync(profiles).flatMap((replica) =>
    readdirSync(join(profiles, replica)).map((f) => join(profiles, replica, f)),
  );
  type Profile = {
    nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
    samples: number[];
    timeDeltas: number[];
  };
  const busyTime = (p: Profile) => {
    const idle = new Set(p.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
    return p.samples.reduce((sum, id, i) => sum + (idle.has(id) ? 0 : (p.timeDeltas[i] ?? 0)), 0);
  };
  const loaded = files.map((file) => ({ file, profile: JSON.parse(readFileSync(file, "utf8")) as Profile }));
  const top = loaded.sort((x, y) => busyTime(y.profile) - busyTime(x.profile))[0];
  if (!top) return;
  const { file: busiest, profile } = top;
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = byNode.get(id)!.callFrame;
    if (frame.functionName === "(idle)") return;
    const key = `${frame.functionName || "(anonymous)"} ${frame.url.split("/").slice(-2).join("/")}:${frame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const replica = busiest.split("/").at(-2);
  process.stdout.write(
    `\nCPU profile of the busiest replica under the mixed load, ${replica} (${(busyTime(profile) / 1e6).toFixed(1)} s busy; ${busiest}), top 10 frames by self time, share of busy time:\n`,
  );
  for (const [frame, us] of [...self.entries()].sort((x, y) => y[1] - x[1]).slice(0, 10))
    process.stdout.write(`  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${frame}\n`);
}

/**
 * The bench's bucket on the shared Ceph (a 20 GiB OSD): created at the start, emptied and deleted at
 * the end. Every LFS upload is a new object, tens of MiB/s, so while the loads run a sweep deletes the
 * LFS objects older than `ageMs` (a 10-minute soak would otherwise store more than the OSD holds; a full
 * OSD blocks every writer on the machine). The FTP loads overwrite one file per session.
 */
async function benchBucket(ceph: NonNullable<ReturnType<typeof cephEnv>>, bucket: string) {
  const { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, S3Client } =
    await import("@aws-sdk/client-s3");
  const client = new S3Client({
    endpoint: ceph.endpoint,
    region: ceph.region,
    forcePathStyle: true,
    credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const swept = { objects: 0, failures: 0 };
  const sweepOnce = async (prefix: string, ageMs: number) => {
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      const old = (page.Contents ?? []).filter(
        (o) => /[0-9a-f]{64}$/.test(o.Key ?? "") && Date.now() - (o.LastModified?.getTime() ?? 0) > ageMs,
      );
      // One by one, 32 at a time: no batch request and its Content-MD5 needed. 8 at a time fell behind
      // the soak's uploads on a loaded machine (8.5 GiB in the bucket after 5 minutes).
      for (let i = 0; i < old.length; i += 32)
        await Promise.all(
          old.slice(i, i + 32).map(async (o) => {
            await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key! }));
            swept.objects++;
          }),
        );
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  };
  return {
    swept,
    /** Sweeps `prefix` again and again (2 s apart) until the returned function is called. */
    sweep(prefix: string, ageMs: number): () => Promise<void> {
      let stopped = false;
      const running = (async () => {
        while (!stopped) {
          await sweepOnce(prefix, ageMs).catch(() => {
            swept.failures++;
          });
          await new Promise((r) => setTimeout(r, 2_000));
        }
      })();
      return async () => {
        stopped = true;
        await running;
      };
    },
    /** Empties and deletes the bucket; gives up (and says so) after `timeoutMs`. */
    async dispose(timeoutMs = 120_000) {
      const done = (async () => {
        await emptyBucket(client, bucket);
        await client.send(new DeleteBucketCommand({ Bucket: bucket }));
      })();
      const timeout = new Promise<never>((_, reject) => {
        setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref();
      });
      await Promise.race([done, timeout]).catch((error: unknown) =>
        process.stderr.write(
          `cluster: bucket ${bucket} was not deleted (${describe(error)}); pnpm bench cluster --clean deletes it\n`,
        ),
      );
      client.destroy();
    },
  };
}

/** `--clean`: empties and deletes the buckets of earlier runs that did not end (killed, or the store hung). */
async function cleanLeftovers(ceph: NonNullable<ReturnType<typeof cephEnv>>) {
  const { DeleteBucketCommand, ListBucketsCommand, S3Client } = await import("@aws-sdk/client-s3");
  const client = new S3Client({
    endpoint: ceph.endpoint,
    region: ceph.region,
    forcePathStyle: true,
    credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey },
  });
  const { Buckets = [] } = await client.send(new ListBucketsCommand({}));
  for (const { Name } of Buckets) {
    if (!Name?.startsWith("cluster-bench-")) continue;
    await emptyBucket(client, Name);
    await client.send(new DeleteBucketCommand({ Bucket: Name }));
    process.stdout.write(`cluster: deleted ${Name}\n`);
  }
  client.destroy();
}

await main();
