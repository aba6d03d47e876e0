/**
 * Two replicas of each server behind HAProxy (deploy/haproxy/haproxy.cfg) on one Ceph bucket give a
 * user the same answers as one: the real git-lfs, lftp and ftplib clients, and the HTTP APIs, going
 * through the balancer and through each replica directly.
 */
import { execFile, spawn } from "node:child_process";
import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { readFile, writeFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { startTcpProxy } from "../../apps/ftps-gateway/test/tcp-proxy.ts";
import {
  type GitUser,
  gitUser,
  initRepo,
  sha256File,
  writeFileOfSize,
} from "../../apps/lfs-router/test/git.ts";
import { createIssuer } from "../../packages/auth-jwt/src/index.ts";
import { openStorage } from "../../packages/storage-driver/src/index.ts";
import { type TempDir, tempDir } from "../../packages/test-kit/src/fs.ts";
import { ldapEnv, registryEnv, s3Env } from "../../packages/test-kit/src/inject.ts";
import { createTestBucket, type TestBucket } from "../../packages/test-kit/src/s3.ts";
import {
  alive,
  type ClusterState,
  planCluster,
  type Replica,
  startHaproxy,
  startReplica,
  stopCluster,
  stopPid,
  waitBalanced,
} from "./cluster.ts";

const execFileAsync = promisify(execFile);

/**
 * Size of the uploads the SIGKILL tests cut and retry. The issue's figure is 1 GiB
 * (`WHARF_CLUSTER_KILL_MIB=1024`, a manual run); the suite's default keeps it within about a minute.
 */
const killMiB = Number(process.env.WHARF_CLUSTER_KILL_MIB ?? 64);
/** A bigger run gets time in proportion (about 1 s per 2 MiB: generate, send, retry, read back). */
const killTimeoutMs = Math.max(120_000, killMiB * 500);

/** `bytes` of reproducible pseudo-random data named by `seed`, made as it is read (nothing buffered). */
function generated(bytes: number, seed: string): Readable {
  const cipher = createCipheriv("aes-256-ctr", createHash("sha256").update(seed).digest(), Buffer.alloc(16));
  const zeros = Buffer.alloc(1024 * 1024);
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, zeros.length);
      left -= n;
      this.push(cipher.update(zeros.subarray(0, n)));
    },
  });
}

async function sha256Of(stream: AsyncIterable<Buffer>): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest("hex");
}

/** Runs curl with `input` on its stdin; its exit code, stderr and the sha256 of its stdout. */
function curl(
  args: string[],
  input?: Readable,
): Promise<{ code: number | null; stderr: string; sha256: string }> {
  const child = spawn("curl", ["-sS", ...args], { stdio: [input ? "pipe" : "ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // curl killed mid-upload (its server gone) closes stdin: the generator's end is not the test's error.
  if (input) pipeline(input, child.stdin!).catch(() => {});
  const output = sha256Of(child.stdout!);
  return new Promise((resolve) =>
    child.on("close", async (code) => resolve({ code, stderr, sha256: await output })),
  );
}

/** Polls `read` until `ok` holds (a state another process brings about), or fails after `ms`. */
async function until<T>(what: string, read: () => Promise<T | undefined>, ok: (v: T) => boolean, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value !== undefined && ok(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${ms} ms (last: ${JSON.stringify(value)})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Sends `GET path` on an open keep-alive connection and reads one response (headers and a
 * Content-Length body): its status and the idle time its `Keep-Alive: timeout=N` header offers.
 */
function getOn(socket: Socket, host: string, path: string): Promise<{ status: number; keepAlive?: number }> {
  return new Promise((resolve, reject) => {
    let received = "";
    const done = () => {
      socket.off("data", onData);
      socket.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.toString("latin1");
      const end = received.indexOf("\r\n\r\n");
      if (end === -1) return;
      const head = received.slice(0, end);
      if (received.length < end + 4 + Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0)) return;
      done();
      const keepAlive = /\r\nkeep-alive: *timeout=(\d+)/i.exec(head)?.[1];
      resolve({ status: Number(head.split(" ")[1]), keepAlive: keepAlive ? Number(keepAlive) : undefined });
    };
    const onClose = () => {
      done();
      reject(new Error(`the connection closed before an answer (${received.length} bytes received)`));
    };
    socket.on("data", onData);
    socket.on("close", onClose);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  });
}

describe("two replicas behind HAProxy on one Ceph bucket", () => {
  let dir: TempDir;
  let bucket: TestBucket;
  let cluster: ClusterState;
  /** Every replica reaches Ceph through this proxy, so a test can cut the store off and restore it. */
  let storePath: Awaited<ReturnType<typeof startTcpProxy>>;
  /** The registry-usage replicas reach slapd through this one, so a test can stop LDAP for them alone. */
  let ldapPath: Awaited<ReturnType<typeof startTcpProxy>>;
  const replica = (app: Replica["app"], name: "a" | "b") =>
    cluster.replicas.find((r) => r.app === app && r.name === name)!;
  /**
   * A client's keep-alive connection to the balancer (bitstore's port), opened once the cluster is up
   * and left idle while the other tests run, until "the balancer" test sends on it again.
   */
  const idle: { socket?: Socket; answeredAt: number; keepAlive?: number; closedAt?: number } = {
    answeredAt: 0,
  };

  beforeAll(async () => {
    dir = await tempDir("wharf-cluster-");
    bucket = await createTestBucket("cluster");
    const ldap = ldapEnv();
    const ceph = new URL(s3Env().endpoint);
    storePath = await startTcpProxy({ host: ceph.hostname, port: Number(ceph.port) });
    const slapd = new URL(ldap.url);
    ldapPath = await startTcpProxy({ host: slapd.hostname, port: Number(slapd.port) });
    cluster = await planCluster({
      dir: dir.path,
      bucket: bucket.name,
      services: {
        s3: { ...s3Env(), endpoint: `http://127.0.0.1:${storePath.port}` },
        ldap: { url: `ldap://127.0.0.1:${ldapPath.port}`, baseDn: ldap.baseDn },
        registry: registryEnv(),
      },
      // A short lease and interval, so a take-over happens within the test.
      settings: {
        // A lockout the PROXY protocol test reaches in a few attempts on each gateway.
        "ftps-gateway": { FTP_LOGIN_MAX_FAILURES: "3", FTP_LOGIN_FAILURE_DELAY_MS: "100" },
        "registry-usage": {
          REGISTRY_USAGE_STORAGE_LEASE: "6 seconds",
          REGISTRY_USAGE_REGISTRY_REFRESH_INTERVAL: "3 seconds",
          // The dev slapd's registry-users group (ldapFixture): alice may log in.
          REGISTRY_USAGE_LDAP_VALID_GID: "5000",
        },
      },
    });
    // The lfs and FTP replicas are the ones these tests talk to; the others start for the balancer.
    await Promise.all(cluster.replicas.map((r) => startReplica(r)));
    await startHaproxy(cluster);
    await waitBalanced(cluster);
    const socket = connect(Number(new URL(cluster.urls.bitstore).port), "127.0.0.1");
    idle.socket = socket;
    socket.on("error", () => {});
    socket.once("close", () => {
      idle.closedAt = Date.now();
    });
    await once(socket, "connect");
    const first = await getOn(socket, new URL(cluster.urls.bitstore).host, "/healthz");
    expect(first.status).toBe(200);
    idle.answeredAt = Date.now();
    idle.keepAlive = first.keepAlive;
  }, 120_000);

  afterAll(async () => {
    idle.socket?.destroy();
    if (cluster) await stopCluster(cluster);
    await storePath?.[Symbol.asyncDispose]();
    await ldapPath?.[Symbol.asyncDispose]();
    await bucket?.[Symbol.asyncDispose]();
    await dir?.[Symbol.asyncDispose]();
  });

  /** An lfs-router token for `user` (HS256, the cluster's secret), and the Basic header git-lfs sends with it. */
  const token = (user: string, scope = "org/*:write") =>
    createIssuer({ algorithm: "HS256", secret: cluster.secrets.jwt }).issue(
      { username: user, scope },
      { expiresIn: "1h", subject: user },
    );
  const auth = async (user: string, scope?: string) =>
    `Basic ${Buffer.from(`${user}:${await token(user, scope)}`).toString("base64")}`;

  describe("lfs-router", () => {
    const lfs = (base: string, repo: string) => `${base}/${repo}/info/lfs`;
    const lockApi = async (base: string, user: string, path: string, init: RequestInit = {}) =>
      fetch(`${lfs(base, "org/locks")}/locks${path}`, {
        ...init,
        headers: {
          Authorization: await auth(user),
          Accept: "application/vnd.git-lfs+json",
          "Content-Type": "application/vnd.git-lfs+json",
        },
      });

    it("serves a push through the balancer to clones through each replica", async () => {
      const root = dir.path;
      const users: Record<string, GitUser> = {};
      for (const [name, url] of [
        ["lb", cluster.urls.lfs],
        ["a", replica("lfs-router", "a").url],
        ["b", replica("lfs-router", "b").url],
      ] as const)
        users[name] = await gitUser(join(root, `git-${name}`), "alice", url, await token("alice"));
      const bare = join(root, "remote.git");
      await users.lb!.ok(["init", "-q", "--bare", bare], root);
      const work = join(root, "work");
      await initRepo(users.lb!, work, bare, lfs(cluster.urls.lfs, "org/repo"));
      const hashes: Record<string, string> = {};
      for (const [file, size] of [
        ["one.bin", 300_000],
        ["two.bin", 2_500_000],
        ["three.bin", 70_000],
      ] as const)
        hashes[file] = await writeFileOfSize(join(work, file), size, file);
      await users.lb!.ok(["add", "."], work);
      await users.lb!.ok(["commit", "-q", "-m", "lfs"], work);
      await users.lb!.ok(["push", "-q", "-u", "origin", "main"], work);

      for (const name of ["a", "b"] as const) {
        const target = join(root, `clone-${name}`);
        const url = lfs(replica("lfs-router", name).url, "org/repo");
        await users[name]!.ok(["-c", `lfs.url=${url}`, "clone", "-q", bare, target], root);
        for (const [file, oid] of Object.entries(hashes))
          expect(await sha256File(join(target, file))).toBe(oid);
      }
    });

    it("lists, verifies and deletes through one replica a lock created through the other", async () => {
      const a = replica("lfs-router", "a").url;
      const b = replica("lfs-router", "b").url;
      const created = await lockApi(a, "alice", "", {
        method: "POST",
        body: JSON.stringify({ path: "x/cross.psd" }),
      });
      expect(created.status).toBe(201);
      const { lock } = (await created.json()) as { lock: { id: string; owner: { name: string } } };
      const listed = (await (await lockApi(b, "bob", "?path=x/cross.psd")).json()) as {
        locks: Array<{ id: string }>;
      };
      expect(listed.locks.map((l) => l.id)).toEqual([lock.id]);
      const verify = (await (
        await lockApi(b, "alice", "/verify", { method: "POST", body: "{}" })
      ).json()) as { ours: Array<{ id: string }> };
      expect(verify.ours.map((l) => l.id)).toContain(lock.id);
      const deleted = await lockApi(b, "alice", `/${lock.id}/unlock`, { method: "POST", body: "{}" });
      expect(deleted.status).toBe(200);
      const after = (await (await lockApi(a, "bob", "?path=x/cross.psd")).json()) as { locks: unknown[] };
      expect(after.locks).toEqual([]);
    });

    it("gives one of 20 concurrent locks of one path, over both replicas, to exactly one user", async () => {
      const bases = [replica("lfs-router", "a").url, replica("lfs-router", "b").url];
      const results = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const user = `user${i}`;
          const res = await lockApi(bases[i % 2]!, user, "", {
            method: "POST",
            body: JSON.stringify({ path: "contended.bin" }),
          });
          return {
            user,
            status: res.status,
            body: (await res.json()) as { lock?: { owner: { name: string } } },
          };
        }),
      );
      const winners = results.filter((r) => r.status === 201);
      expect(winners).toHaveLength(1);
      const owner = winners[0]!.user;
      for (const loser of results.filter((r) => r.status !== 201)) {
        expect(loser.status).toBe(409);
        expect(loser.body.lock?.owner.name).toBe(owner);
      }
    });

    it("keeps one correct object when two clients upload it at once through different replicas", async () => {
      const body = randomBytes(3 * 1024 * 1024 + 17);
      const oid = createHash("sha256").update(body).digest("hex");
      const upload = async (base: string) => {
        const batch = await fetch(`${lfs(base, "org/race")}/objects/batch`, {
          method: "POST",
          headers: {
            Authorization: await auth("alice"),
            Accept: "application/vnd.git-lfs+json",
            "Content-Type": "application/vnd.git-lfs+json",
          },
          body: JSON.stringify({ operation: "upload", objects: [{ oid, size: body.length }] }),
        });
        const answer = (await batch.json()) as {
          objects: Array<{ actions?: { upload?: { href: string; header?: Record<string, string> } } }>;
        };
        const action = answer.objects[0]!.actions?.upload;
        if (!action) return "present";
        // The href names the balancer (PUBLIC_URL); send the bytes to this replica instead.
        const href = new URL(action.href);
        const target = new URL(href.pathname + href.search, base);
        const put = await fetch(target, { method: "PUT", headers: action.header ?? {}, body });
        return String(put.status);
      };
      const statuses = await Promise.all([
        upload(replica("lfs-router", "a").url),
        upload(replica("lfs-router", "b").url),
      ]);
      for (const status of statuses) expect(["200", "present"]).toContain(status);
      const download = await fetch(`${lfs(replica("lfs-router", "b").url, "org/race")}/objects/batch`, {
        method: "POST",
        headers: {
          Authorization: await auth("alice"),
          Accept: "application/vnd.git-lfs+json",
          "Content-Type": "application/vnd.git-lfs+json",
        },
        body: JSON.stringify({ operation: "download", objects: [{ oid, size: body.length }] }),
      });
      const link = (
        (await download.json()) as {
          objects: Array<{ actions: { download: { href: string; header?: Record<string, string> } } }>;
        }
      ).objects[0]!.actions.download;
      const got = Buffer.from(await (await fetch(link.href, { headers: link.header ?? {} })).arrayBuffer());
      expect(createHash("sha256").update(got).digest("hex")).toBe(oid);
    });
  });

  describe("bitstore", () => {
    const md5 = (n: number) => createHash("md5").update(Buffer.alloc(n, 7)).digest("base64");
    const authorize = async (base: string, owner: string, name: string, length: number) => {
      const token = await createIssuer({ algorithm: "RS256", privateKey: cluster.bitstorePrivateKey }).issue(
        {
          userid: owner,
          service: "rawstore",
          permissions: { "datapackage-upload": true, max_public_storage_mb: 1 },
        },
        { expiresIn: 600 },
      );
      return fetch(`${base}/rawstore/authorize`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Auth-Token": token },
        body: JSON.stringify({
          metadata: { owner, name },
          filedata: { [`${name}.csv`]: { length, md5: md5(length), type: "text/csv", name: `${name}.csv` } },
        }),
      });
    };

    it("never reserves more than the quota under concurrent authorizations over both replicas", async () => {
      // 1 MB quota; 12 requests of 200,000 bytes each: at most 5 may be granted.
      const bases = [replica("bitstore", "a").url, replica("bitstore", "b").url];
      const statuses = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          authorize(bases[i % 2]!, "quota-user", `part-${i}`, 200_000).then((r) => r.status),
        ),
      );
      const granted = statuses.filter((s) => s === 200).length;
      expect(
        statuses.every((s) => s === 200 || s === 403),
        statuses.join(","),
      ).toBe(true);
      expect(granted).toBe(5);
      const usage = (await (
        await fetch(`${bases[1]}/rawstore/quota`, {
          headers: {
            "Auth-Token": await createIssuer({
              algorithm: "RS256",
              privateKey: cluster.bitstorePrivateKey,
            }).issue(
              { userid: "quota-user", service: "rawstore", permissions: { "datapackage-upload": true } },
              { expiresIn: 600 },
            ),
          },
        })
      ).json()) as { public: number };
      expect(usage.public).toBe(5 * 200_000);
    });
  });

  describe("registry-usage", () => {
    const storageUrl = () =>
      `s3://${cluster.bucket}/registry-usage/?endpoint=${encodeURIComponent(s3Env().endpoint)}&region=${s3Env().region}`;
    async function readJson<T>(key: string): Promise<T | undefined> {
      const driver = await openStorage(storageUrl(), {
        credentials: { accessKeyId: s3Env().accessKeyId, secretAccessKey: s3Env().secretAccessKey },
      });
      try {
        const { body } = await driver.get(`registry-usage/${key}`);
        return JSON.parse(Buffer.concat(await body.toArray()).toString()) as T;
      } catch {
        return undefined;
      } finally {
        await driver.close();
      }
    }
    const pidOf = (holder: string | undefined) => Number(holder?.split(":")[1]);
    async function until<T>(
      what: string,
      read: () => Promise<T | undefined>,
      ok: (v: T) => boolean,
      ms: number,
    ) {
      const deadline = Date.now() + ms;
      for (;;) {
        const value = await read();
        if (value !== undefined && ok(value)) return value;
        if (Date.now() > deadline)
          throw new Error(`${what}: not within ${ms} ms (last: ${JSON.stringify(value)})`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    interface Status {
      state: string;
      holder?: string;
      last_success?: number;
    }

    it("scans on one replica at a time, serves one snapshot from both, and fails over on SIGKILL", async () => {
      const replicas = [replica("registry-usage", "a"), replica("registry-usage", "b")];
      const first = await until(
        "a first scan",
        () => readJson<Status>("status.json"),
        (s) => s.state === "ok",
        30_000,
      );
      const scanner = replicas.find((r) => r.pid === pidOf(first.holder));
      expect(scanner, `holder ${first.holder}`).toBeDefined();
      // Over a few refresh intervals the lease stays with the scanner: the other stands by.
      for (let i = 0; i < 6; i++) {
        const lease = await readJson<{ holder: string }>("lease.json");
        expect(pidOf(lease?.holder)).toBe(scanner!.pid);
        await new Promise((r) => setTimeout(r, 1000));
      }
      const token = await createIssuer({ algorithm: "HS256", secret: cluster.secrets.registryJwt }).issue(
        { sub: "alice" },
        { expiresIn: "10m", subject: "alice" },
      );
      const bodies = await Promise.all(
        replicas.map(async (r) => {
          const res = await fetch(`${r.url}/repositories`, { headers: { Authorization: `Bearer ${token}` } });
          expect(res.status).toBe(200);
          const body = (await res.json()) as Record<string, unknown>;
          delete body._links;
          return body;
        }),
      );
      expect(bodies[1]).toEqual(bodies[0]);

      const other = replicas.find((r) => r !== scanner)!;
      process.kill(scanner!.pid!, "SIGKILL");
      // Back for the next tests even if this one fails.
      onTestFinished(() => startReplica(scanner!));
      const killedAt = Date.now() / 1000;
      const after = await until(
        "a scan by the other replica",
        () => readJson<Status>("status.json"),
        (s) => pidOf(s.holder) === other.pid && s.state === "ok" && (s.last_success ?? 0) > killedAt,
        // The lease (6 s) runs out, the next tick (3 s) takes it and scans.
        25_000,
      );
      expect(pidOf(after.holder)).toBe(other.pid);
      expect(pidOf((await readJson<{ holder: string }>("lease.json"))?.holder)).toBe(other.pid);
    });

    it("with slapd stopped, logins answer 503 with a clear message and issued tokens keep reading the snapshot", async () => {
      const bases = [
        cluster.urls.registry,
        ...["a", "b"].map((n) => replica("registry-usage", n as "a" | "b").url),
      ];
      const basic = `Basic ${Buffer.from("alice:alicepw").toString("base64")}`;
      const login = (base: string) => fetch(`${base}/auth_token`, { headers: { Authorization: basic } });
      const issued = await login(cluster.urls.registry);
      expect(issued.status).toBe(200);
      const { auth_token: token } = (await issued.json()) as { auth_token: string };
      const repositories = (base: string) =>
        fetch(`${base}/repositories`, { headers: { Authorization: `Bearer ${token}` } });
      await until(
        "a snapshot served",
        () => repositories(cluster.urls.registry).then((r) => r.status),
        (st) => st === 200,
        30_000,
      );

      await ldapPath.cut();
      onTestFinished(() => ldapPath.restore());
      for (const base of bases) {
        const refused = await login(base);
        expect(refused.status, base).toBe(503);
        expect(refused.headers.get("retry-after"), base).toBeTruthy();
        const body = (await refused.json()) as { message: string; code: string };
        expect(body.code).toBe("UNAVAILABLE");
        expect(body.message, base).toMatch(/LDAP/);
        const served = await repositories(base);
        expect(served.status, base).toBe(200);
        expect(((await served.json()) as Record<string, unknown>)._embedded ?? {}).toBeDefined();
      }

      await ldapPath.restore();
      for (const base of bases) expect((await login(base)).status, base).toBe(200);
    });
  });

  describe("tycho", () => {
    it("lets exactly one of two concurrent pushes of one version from separate configs win", async () => {
      const storage = `s3://${cluster.bucket}/tycho/?endpoint=${encodeURIComponent(s3Env().endpoint)}&region=${s3Env().region}`;
      const tycho = join(import.meta.dirname, "../../apps/tycho/bin/tycho.mjs");
      const machine = async (name: string) => {
        const home = join(dir.path, `tycho-${name}`);
        await execFileAsync("mkdir", ["-p", home]);
        await writeFile(join(home, ".tychoreg.json"), JSON.stringify({ tycho: { storage } }));
        await writeFile(join(home, "tool.bin"), randomBytes(6 * 1024 * 1024));
        return (...args: string[]) =>
          execFileAsync(process.execPath, [tycho, ...args], {
            cwd: home,
            env: {
              PATH: process.env.PATH ?? "",
              TYCHO_USER: `${name}@ci`,
              AWS_ACCESS_KEY_ID: s3Env().accessKeyId,
              AWS_SECRET_ACCESS_KEY: s3Env().secretAccessKey,
              AWS_REGION: s3Env().region,
            },
          }).then(
            (r) => ({ code: 0, stderr: r.stderr }),
            (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
          );
      };
      const one = await machine("one");
      const two = await machine("two");
      expect((await one("init", "tool", "tool.bin")).code).toBe(0);
      const results = await Promise.all([
        one("push", "tool", "1.0.0", "tool.bin"),
        two("push", "tool", "1.0.0", "tool.bin"),
      ]);
      const codes = results.map((r) => r.code).sort();
      expect(codes).toEqual([0, 5]);
      const loser = results.find((r) => r.code === 5)!;
      expect(loser.stderr).toMatch(/Already Exists|In Progress/);
    });
  });

  /**
   * The source address of a test's FTP client: through the balancer any; straight to a gateway any but
   * the balancer's own towards the gateways (WHARF_LB_FTP_SOURCE, trusted to send PROXY headers, so
   * refused without one); 127.0.0.4 shows that such a client needs no header.
   */
  const sourceOf = (target: { host: string; port: number }) =>
    target.port === cluster.urls.ftp.port ? "127.0.0.1" : "127.0.0.4";

  describe("ftps-gateway", () => {
    const lftp = async (target: { host: string; port: number }, script: string) => {
      const { stdout } = await execFileAsync(
        "lftp",
        [
          "-u",
          `${cluster.secrets.ftpUser},${cluster.secrets.ftpPassword}`,
          "-e",
          [
            `set net:socket-bind-ipv4 ${sourceOf(target)}`,
            "set ftp:ssl-force yes",
            "set ftp:ssl-protect-data yes",
            `set ssl:ca-file ${cluster.tls.cert}`,
            "set ssl:check-hostname no",
            "set net:max-retries 1",
            script,
            "bye",
          ].join("; "),
          `ftp://${target.host}:${target.port}`,
        ],
        { cwd: dir.path },
      );
      return stdout;
    };
    const ftplib = async (target: { host: string; port: number }, code: string) => {
      const script = `
import ftplib, ssl, sys
ctx = ssl.create_default_context(cafile=${JSON.stringify(cluster.tls.cert)})
ctx.check_hostname = False
class Reuse(ftplib.FTP_TLS):
    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size
f = Reuse(context=ctx)
f.connect(${JSON.stringify(target.host)}, ${target.port}, timeout=20, source_address=(${JSON.stringify(sourceOf(target))}, 0))
f.auth(); f.login(${JSON.stringify(cluster.secrets.ftpUser)}, ${JSON.stringify(cluster.secrets.ftpPassword)}); f.prot_p()
${code}
f.quit()`;
      const { stdout } = await execFileAsync("/usr/bin/python3", ["-c", script], { cwd: dir.path });
      return stdout;
    };
    const direct = (name: "a" | "b") => replica("ftps-gateway", name).ftp!;

    it("uploads through replica A; lists, downloads, renames and deletes through replica B", async () => {
      const file = join(dir.path, "report.csv");
      const body = randomBytes(1_500_000);
      await writeFile(file, body);
      await lftp(direct("a"), `put ${file} -o report.csv`);
      const listing = await ftplib(direct("b"), "print('\\n'.join(f.nlst()))");
      expect(listing.split("\n")).toContain("report.csv");
      const copy = join(dir.path, "report.copy");
      await ftplib(direct("b"), `f.retrbinary('RETR report.csv', open(${JSON.stringify(copy)}, 'wb').write)`);
      expect((await readFile(copy)).equals(body)).toBe(true);
      await ftplib(direct("b"), "f.rename('report.csv', 'renamed.csv')");
      expect(await lftp(direct("a"), "cls -1")).toContain("renamed.csv");
      await ftplib(direct("b"), "f.delete('renamed.csv')");
      expect(await lftp(direct("a"), "cls -1")).not.toContain("renamed.csv");
    });

    it("moves files through the balancer with lftp and ftplib, each data connection reaching its replica", async () => {
      const files = await Promise.all(
        Array.from({ length: 6 }, async (_, i) => {
          const path = join(dir.path, `lb-${i}.bin`);
          const body = randomBytes(400_000 + i);
          await writeFile(path, body);
          return { name: `lb-${i}.bin`, path, body };
        }),
      );
      // Several sessions at once: leastconn spreads them over both gateways.
      await Promise.all(files.map((f) => lftp(cluster.urls.ftp, `put ${f.path} -o ${f.name}`)));
      for (const f of files) {
        const copy = `${f.path}.back`;
        await ftplib(
          cluster.urls.ftp,
          `f.retrbinary('RETR ${f.name}', open(${JSON.stringify(copy)}, 'wb').write)`,
        );
        expect((await readFile(copy)).equals(f.body)).toBe(true);
      }
      const logs = await Promise.all(
        ["a", "b"].map((n) => readFile(replica("ftps-gateway", n as "a" | "b").log, "utf8")),
      );
      for (const log of logs) expect(log).toContain(`"msg":"logged in"`);
    });
  });

  describe("ftps-gateway behind the balancer with the PROXY protocol", () => {
    const lb = () => cluster.urls.ftp;
    const gatewayLog = async () =>
      (
        await Promise.all(
          ["a", "b"].map((n) => readFile(replica("ftps-gateway", n as "a" | "b").log, "utf8")),
        )
      )
        .join("\n")
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    const login = (source: string, user: string, password: string) =>
      execFileAsync("curl", [
        ...["-sS", "-v", "--max-time", "20", "--interface", source],
        `ftp://${user}:${password}@${lb().host}:${lb().port}/`,
      ]).then(
        (r) => ({ ok: true, out: r.stdout + r.stderr }),
        (e: { stdout: string; stderr: string }) => ({ ok: false, out: e.stdout + e.stderr }),
      );

    it("locks out and logs the client's own address, not the balancer's", async () => {
      // Wrong passwords from 127.0.0.5 until both gateways lock that address out (3 failures each).
      for (let i = 0; i < 14; i++) {
        const lockedOn = new Set(
          (await gatewayLog())
            .filter((l) => l.msg === "login locked out" && l.peer === "127.0.0.5")
            .map((l) => l.pid),
        );
        if (lockedOn.size === 2) break;
        const attempt = await login("127.0.0.5", "mallory", "wrong");
        expect(attempt.out).toMatch(/^< (530|421) /m);
      }
      const failures = (await gatewayLog()).filter((l) => l.msg === "login failed" && l.login === "mallory");
      expect(failures.length).toBeGreaterThanOrEqual(6);
      expect(new Set(failures.map((l) => l.peer))).toEqual(new Set(["127.0.0.5"]));
      // That address is refused even with the right password, on whichever gateway it lands ...
      for (let i = 0; i < 2; i++) {
        const locked = await login("127.0.0.5", cluster.secrets.ftpUser, cluster.secrets.ftpPassword);
        expect(locked.ok).toBe(false);
        expect(locked.out).toMatch(/^< 421 Too many failed logins from your address/m);
      }
      // ... while another client behind the same balancer logs in.
      for (let i = 0; i < 2; i++) {
        const other = await login("127.0.0.6", cluster.secrets.ftpUser, cluster.secrets.ftpPassword);
        expect(other.ok, other.out).toBe(true);
      }
    });

    it("checks a data connection against the control connection's client, both through the balancer", async () => {
      const control = connect({ host: lb().host, port: lb().port, localAddress: "127.0.0.7" });
      onTestFinished(() => void control.destroy());
      let received = "";
      control.on("data", (chunk: Buffer) => {
        received += chunk.toString();
      });
      const reply = async () => {
        for (;;) {
          const match = /^(\d{3}) [^\r\n]*\r\n/m.exec(received);
          if (match) {
            received = received.slice(match.index + match[0].length);
            return match[0];
          }
          await once(control, "data");
        }
      };
      const send = async (line: string) => {
        control.write(`${line}\r\n`);
        return reply();
      };
      expect(await reply()).toMatch(/^220 /);
      expect(await send(`USER ${cluster.secrets.ftpUser}`)).toMatch(/^331 /);
      expect(await send(`PASS ${cluster.secrets.ftpPassword}`)).toMatch(/^230 /);
      const pasv = await send("PASV");
      const [h1, h2, h3, h4, p1, p2] = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/
        .exec(pasv)!
        .slice(1)
        .map(Number);
      const data = { host: `${h1}.${h2}.${h3}.${h4}`, port: p1! * 256 + p2! };
      expect(data.host).toBe(lb().host);

      // Another client reaches the passive port first, through the same balancer: refused.
      const thief = connect({ ...data, localAddress: "127.0.0.8" });
      const stolen: Buffer[] = [];
      thief.on("data", (c: Buffer) => stolen.push(c)).on("error", () => {});
      await once(thief, "close");
      const refused = await until(
        "the refusal in a gateway's log",
        async () =>
          (await gatewayLog()).filter(
            (l) => l.msg === "refused a data connection from a foreign address" && l.address === "127.0.0.8",
          ),
        (found) => found.length > 0,
        5_000,
      );
      expect(refused).toHaveLength(1);
      // The client itself gets its listing.
      const own = connect({ ...data, localAddress: "127.0.0.7" });
      const listing = new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        own.on("data", (c: Buffer) => chunks.push(c)).on("error", reject);
        own.on("end", () => resolve(Buffer.concat(chunks).toString()));
      });
      await once(own, "connect");
      expect(await send("LIST")).toMatch(/^1\d\d /);
      await listing;
      expect(await reply()).toMatch(/^226 /);
      expect(Buffer.concat(stolen)).toHaveLength(0);
      control.write("QUIT\r\n");
    });
  });

  describe("the balancer", () => {
    it("keeps an idle client connection as long as the replicas' Keep-Alive header offers, so a client that reuses it is answered", async () => {
      // The replicas say `Keep-Alive: timeout=65` and HAProxy passes it on; Node's fetch then keeps the
      // connection for 65 s less its 2 s margin. The other tests ran meanwhile; wait for the rest.
      expect(idle.keepAlive).toBe(65);
      const reuseAt = idle.answeredAt + (idle.keepAlive! - 2) * 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, reuseAt - Date.now())));
      expect(
        idle.closedAt === undefined
          ? "open"
          : `closed by the balancer after ${(idle.closedAt - idle.answeredAt) / 1000} s idle`,
      ).toBe("open");
      const second = await getOn(idle.socket!, new URL(cluster.urls.bitstore).host, "/healthz");
      expect(second.status).toBe(200);
    }, 90_000);
  });

  describe("faults", () => {
    const store = async () =>
      openStorage(
        `s3://${cluster.bucket}/?endpoint=${encodeURIComponent(s3Env().endpoint)}&region=${s3Env().region}`,
        {
          credentials: { accessKeyId: s3Env().accessKeyId, secretAccessKey: s3Env().secretAccessKey },
        },
      );
    const uploads = async (prefix: string) => {
      const driver = await store();
      try {
        const found = [];
        for await (const upload of driver.listMultipartUploads(prefix)) found.push(upload.key);
        return found;
      } finally {
        await driver.close();
      }
    };
    /** Runs tycho with its store at `endpoint`; its exit code and stderr. */
    const tychoAt = async (endpoint: string, ...args: string[]) => {
      const home = join(dir.path, "tycho-faults");
      await execFileAsync("mkdir", ["-p", home]);
      const storage = `s3://${cluster.bucket}/tycho/?endpoint=${encodeURIComponent(endpoint)}&region=${s3Env().region}`;
      await writeFile(join(home, ".tychoreg.json"), JSON.stringify({ tycho: { storage } }));
      return execFileAsync(
        process.execPath,
        [join(import.meta.dirname, "../../apps/tycho/bin/tycho.mjs"), ...args],
        {
          cwd: home,
          env: {
            PATH: process.env.PATH ?? "",
            TYCHO_USER: "faults@ci",
            AWS_ACCESS_KEY_ID: s3Env().accessKeyId,
            AWS_SECRET_ACCESS_KEY: s3Env().secretAccessKey,
            AWS_REGION: s3Env().region,
          },
        },
      ).then(
        (r) => ({ code: 0, stderr: r.stderr }),
        (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
      );
    };
    const exists = async (key: string) => {
      const driver = await store();
      try {
        return await driver.head(key).then(
          () => true,
          () => false,
        );
      } finally {
        await driver.close();
      }
    };

    it(
      `an FTP STOR of ${killMiB} MiB cut by SIGKILL of its gateway leaves no object; the retry lands; the restarted gateway's sweep removes the parts`,
      async () => {
        const gateway = replica("ftps-gateway", "a");
        const size = killMiB * 1024 * 1024;
        const oid = await sha256Of(generated(size, "ftp-kill"));
        const url = (target: { host: string; port: number }) =>
          `ftp://${cluster.secrets.ftpUser}:${cluster.secrets.ftpPassword}@${target.host}:${target.port}/big.bin`;
        // Straight to gateway A, slowly, from an address other than the balancer's (see sourceOf).
        let sent = 0;
        const upload = curl(
          ["--limit-rate", "8M", "--interface", "127.0.0.4", "-T", "-", url(gateway.ftp!)],
          generated(size, "ftp-kill").on("data", (chunk: Buffer) => {
            sent += chunk.length;
          }),
        );
        await until(
          "a quarter of the body sent and parts in the store",
          async () => (sent > size / 4 || sent > 24 * 1024 * 1024 ? uploads("ftp/") : []),
          (found) => found.length > 0,
          120_000,
        );
        process.kill(gateway.pid!, "SIGKILL");
        expect((await upload).code).not.toBe(0);
        expect(await exists("ftp/users/alice/big.bin")).toBe(false);
        expect(await uploads("ftp/")).toHaveLength(1);

        // The client retries through the balancer: the other gateway takes it.
        const retry = await curl(["-T", "-", url(cluster.urls.ftp)], generated(size, "ftp-kill"));
        expect(retry.code, retry.stderr).toBe(0);
        const back = await curl(["-o", "-", url(cluster.urls.ftp)]);
        expect(back.code, back.stderr).toBe(0);
        expect(back.sha256).toBe(oid);

        // Restarted with a sweep age this test can wait for, the gateway aborts the abandoned upload.
        gateway.env.FTP_ABANDONED_UPLOAD_HOURS = String(1 / 3600);
        await startReplica(gateway);
        await until(
          "the sweep",
          () => uploads("ftp/"),
          (found) => found.length === 0,
          20_000,
        );
        gateway.env.FTP_ABANDONED_UPLOAD_HOURS = "24";
      },
      killTimeoutMs,
    );

    it(
      `an LFS upload of ${killMiB} MiB cut by SIGKILL of its replica leaves no object, and the retry through the balancer succeeds`,
      async () => {
        const router = replica("lfs-router", "b");
        const size = killMiB * 1024 * 1024;
        const oid = await sha256Of(generated(size, "lfs-kill"));
        const authorization = await auth("alice");
        const batch = async (base: string) => {
          const res = await fetch(`${base}/org/faults/info/lfs/objects/batch`, {
            method: "POST",
            headers: {
              Authorization: authorization,
              Accept: "application/vnd.git-lfs+json",
              "Content-Type": "application/vnd.git-lfs+json",
            },
            body: JSON.stringify({ operation: "upload", objects: [{ oid, size }] }),
          });
          return (
            (await res.json()) as {
              objects: Array<{ actions?: { upload?: { href: string; header?: Record<string, string> } } }>;
            }
          ).objects[0]!.actions!.upload!;
        };
        const action = await batch(router.url);
        const href = new URL(action.href);
        // A slow client: the body trickles in (about 50 MB/s at most), so the replica dies mid-transfer.
        let sent = 0;
        const source = generated(size, "lfs-kill")[Symbol.asyncIterator]();
        const slow = new ReadableStream<Uint8Array>({
          async pull(controller) {
            const next = await source.next();
            if (next.done) return controller.close();
            sent += (next.value as Buffer).length;
            controller.enqueue(next.value as Buffer);
            await new Promise((r) => setTimeout(r, 20));
          },
        });
        const put = fetch(new URL(href.pathname + href.search, router.url), {
          method: "PUT",
          headers: action.header ?? {},
          body: slow,
          duplex: "half",
        } as RequestInit).then(
          (r) => r.status,
          () => "failed",
        );
        await until(
          "a quarter of the body sent",
          async () => sent,
          (n) => n > size / 4,
          120_000,
        );
        process.kill(router.pid!, "SIGKILL");
        expect(await put).toBe("failed");
        const key = `lfs/org/faults/${oid.slice(0, 2)}/${oid.slice(2, 4)}/${oid}`;
        expect(await exists(key)).toBe(false);

        const retry = await batch(cluster.urls.lfs);
        const again = await fetch(retry.href, {
          method: "PUT",
          headers: retry.header ?? {},
          body: Readable.toWeb(generated(size, "lfs-kill")),
          duplex: "half",
        } as RequestInit);
        expect(again.status).toBe(200);
        expect(await exists(key)).toBe(true);
        await startReplica(router);
      },
      killTimeoutMs,
    );

    it("a store outage of 10 s gets 503 + Retry-After and FTP 4xx, crashes nothing, and service is back within 5 s", async () => {
      const token = await createIssuer({ algorithm: "HS256", secret: cluster.secrets.jwt }).issue(
        { username: "alice", scope: "org/*:write" },
        { expiresIn: "1h", subject: "alice" },
      );
      const batch = (base: string) =>
        fetch(`${base}/org/outage/info/lfs/objects/batch`, {
          method: "POST",
          headers: {
            Authorization: `Basic ${Buffer.from(`alice:${token}`).toString("base64")}`,
            Accept: "application/vnd.git-lfs+json",
            "Content-Type": "application/vnd.git-lfs+json",
          },
          body: JSON.stringify({ operation: "download", objects: [{ oid: "a".repeat(64), size: 1 }] }),
        });
      const ftp = (file: string, name: string) =>
        execFileAsync("curl", [
          ...["-sS", "-v", "--max-time", "20", "-T", file],
          `ftp://${cluster.secrets.ftpUser}:${cluster.secrets.ftpPassword}@${cluster.urls.ftp.host}:${cluster.urls.ftp.port}/${name}`,
        ]).then(
          (r) => ({ ok: true, out: r.stdout + r.stderr }),
          (e: { stdout: string; stderr: string }) => ({ ok: false, out: e.stdout + e.stderr }),
        );
      expect((await batch(cluster.urls.lfs)).status).toBe(200);

      await storePath.cut();
      onTestFinished(() => storePath.restore());
      const cutAt = Date.now();
      // Each replica answers 503 with Retry-After itself; the balancer, once no replica is ready, too.
      const direct = await batch(replica("lfs-router", "a").url);
      expect(direct.status).toBe(503);
      expect(direct.headers.get("retry-after")).toBeTruthy();
      await until(
        "readiness false on every HTTP replica",
        async () =>
          Promise.all(
            cluster.replicas
              .filter((r) => r.app !== "registry-usage")
              .map((r) => fetch(`${r.url}/healthz`).then((x) => x.status)),
          ),
        (statuses) => statuses.every((st) => st === 503),
        8_000,
      );
      // The balancer answers for bitstore once its checks (inter 1s, fall 2) took both replicas out.
      for (const url of [`${cluster.urls.lfs}/healthz`, `${cluster.urls.bitstore}/rawstore/quota`]) {
        const res = await until(
          `503 + Retry-After from ${url}`,
          () => fetch(url),
          (r) => r.status === 503 && r.headers.has("retry-after"),
          5_000,
        );
        expect((await res.json()) as { code: string }).toMatchObject({ code: "UNAVAILABLE" });
      }
      const balanced = await batch(cluster.urls.lfs);
      expect(balanced.status).toBe(503);
      expect(balanced.headers.get("retry-after")).toBeTruthy();
      for (const r of cluster.replicas)
        expect((await fetch(`${r.url}/livez`)).status, `${r.app}/${r.name} live`).toBe(200);
      const small = join(dir.path, "small.bin");
      await writeFile(small, randomBytes(100_000));
      const stor = await ftp(small, "during-outage.bin");
      expect(stor.ok).toBe(false);
      // The gateway's own answer, in FTP's terms: 421 (service not available) or 451 (local error).
      expect(stor.out, stor.out).toMatch(/^< (421|451) /m);
      // tycho talks to the store itself: it retries with back-off, then exits 11 (UNAVAILABLE)
      // naming the cause and how often it tried.
      const tycho = await tychoAt(`http://127.0.0.1:${storePath.port}`, "list");
      expect(tycho.code, tycho.stderr).toBe(11);
      expect(tycho.stderr).toMatch(
        /the S3 service is unavailable \((ECONNREFUSED|ECONNRESET)\b.*; [2-9] attempts, \d+\.\d s of back-off\)/,
      );
      await until(
        "10 s of outage",
        async () => Date.now() - cutAt,
        (ms) => ms >= 10_000,
        15_000,
      );

      await storePath.restore();
      const restoredAt = Date.now();
      await until(
        "every replica ready again",
        async () => Promise.all(cluster.replicas.map((r) => fetch(`${r.url}/healthz`).then((x) => x.status))),
        (statuses) => statuses.every((st) => st === 200),
        5_000,
      );
      await until(
        "lfs-router through the balancer",
        () => batch(cluster.urls.lfs).then((r) => r.status),
        (st) => st === 200,
        5_000,
      );
      expect((await tychoAt(`http://127.0.0.1:${storePath.port}`, "list")).code).toBe(0);
      const after = await ftp(small, "after-outage.bin");
      expect(after.ok, after.out).toBe(true);
      expect(Date.now() - restoredAt).toBeLessThan(5_000 + 8_000); // the FTP upload itself included
      for (const r of cluster.replicas) expect(alive(r.pid), `${r.app}/${r.name} still running`).toBe(true);
    });

    it("a rolling restart under steady traffic fails no HTTP request (each replica drains out of the balancer first); FTP uploads in flight finish or get a 4xx, never leaving half an object", async () => {
      const failures: string[] = [];
      let requests = 0;
      let running = true;
      // FTP: uploads through the balancer, one after another, each slow enough to be in flight when its
      // gateway drains (FTP_SHUTDOWN_GRACE_SECONDS=5 lets it finish, or it is answered 4xx).
      const upload = join(dir.path, "rolling.bin");
      const uploadBody = randomBytes(3 * 1024 * 1024);
      await writeFile(upload, uploadBody);
      const ftpResults: Array<{ name: string; ok: boolean; out: string }> = [];
      const ftpTraffic = (async () => {
        for (let i = 0; running; i++) {
          const name = `rolling-${i}.bin`;
          const result = await execFileAsync("curl", [
            ...["-sS", "-v", "--max-time", "60", "--limit-rate", "1M", "-T", upload],
            `ftp://${cluster.secrets.ftpUser}:${cluster.secrets.ftpPassword}@${cluster.urls.ftp.host}:${cluster.urls.ftp.port}/${name}`,
          ]).then(
            (r) => ({ name, ok: true, out: r.stdout + r.stderr }),
            (e: { stdout: string; stderr: string }) => ({ name, ok: false, out: e.stdout + e.stderr }),
          );
          ftpResults.push(result);
        }
      })();
      // HTTP: real work through the balancer, POSTs (which HAProxy does not retry): an LFS batch that
      // asks the store for an object, and a bitstore authorization that reserves quota in the store.
      const lfsAuth = await auth("alice", "org/*:read");
      const bitstoreToken = await createIssuer({
        algorithm: "RS256",
        privateKey: cluster.bitstorePrivateKey,
      }).issue(
        {
          userid: "rolling",
          service: "rawstore",
          permissions: { "datapackage-upload": true, max_public_storage_mb: 100 },
        },
        { expiresIn: 600 },
      );
      const work = [
        (i: number) =>
          fetch(`${cluster.urls.lfs}/org/rolling/info/lfs/objects/batch`, {
            method: "POST",
            headers: {
              Authorization: lfsAuth,
              Accept: "application/vnd.git-lfs+json",
              "Content-Type": "application/vnd.git-lfs+json",
            },
            body: JSON.stringify({
              operation: "download",
              objects: [{ oid: createHash("sha256").update(`rolling-${i}`).digest("hex"), size: 1 }],
            }),
          }),
        (i: number) =>
          fetch(`${cluster.urls.bitstore}/rawstore/authorize`, {
            method: "POST",
            headers: { "Content-Type": "application/json", "Auth-Token": bitstoreToken },
            body: JSON.stringify({
              metadata: { owner: "rolling", name: `r${i}` },
              filedata: {
                "r.csv": {
                  length: 10,
                  md5: createHash("md5").update("0123456789").digest("base64"),
                  type: "text/csv",
                  name: "r.csv",
                },
              },
            }),
          }),
      ];
      // Several clients at once, so that the balancer holds idle connections to each replica as it drains.
      let sent = 0;
      const traffic = Promise.all(
        Array.from({ length: 8 }, async (_, client) => {
          while (running) {
            const i = sent++;
            const n = client % work.length;
            requests++;
            const res = await work[n]!(i).catch((e: Error) => e);
            if (res instanceof Error || res.status !== 200)
              failures.push(
                `${n === 0 ? "lfs batch" : "bitstore authorize"} ${i}: ${res instanceof Error ? `${res.message} (${String((res.cause as Error | undefined)?.message)})` : `${res.status} ${await res.text()}`}`,
              );
            else await res.arrayBuffer();
          }
        }),
      );
      for (const app of ["lfs-router", "bitstore", "ftps-gateway"] as const)
        for (const name of ["a", "b"] as const) {
          const r = replica(app, name);
          const signalled = Date.now();
          const stopped = stopPid(r.pid, "SIGTERM");
          if (app !== "ftps-gateway") {
            // Its shutdown delay (SHUTDOWN_DELAY_SECONDS=3): readiness answers 503 at once, so that
            // HAProxy's checks take it out, but it goes on serving, each response closing its connection.
            await until(
              `${app} ${name} draining`,
              () => fetch(`${r.url}/healthz`).then((x) => x.status),
              (st) => st === 503,
              2_000,
            );
            const live = await fetch(`${r.url}/livez`);
            expect(live.status).toBe(200);
            expect(live.headers.get("connection")).toBe("close");
          }
          await stopped;
          if (app !== "ftps-gateway") expect(Date.now() - signalled).toBeGreaterThanOrEqual(3_000);
          await startReplica(r);
          await waitBalanced(cluster, 10_000);
        }
      running = false;
      await Promise.all([traffic, ftpTraffic]);
      expect(requests).toBeGreaterThan(200);
      expect(failures).toEqual([]);
      expect(ftpResults.filter((r) => r.ok).length).toBeGreaterThan(0);
      const driver = await store();
      try {
        for (const result of ftpResults) {
          // A failed upload was answered in FTP's terms (4xx), not dropped without a word.
          if (!result.ok) expect(result.out, result.name).toMatch(/^< 4\d\d /m);
          // Whatever is stored is whole: the uploads that finished, and nothing of the others.
          const key = `ftp/users/alice/${result.name}`;
          const stored = await driver.get(key).then(
            async ({ body }) => Buffer.concat(await body.toArray()),
            () => undefined,
          );
          if (result.ok) expect(stored?.equals(uploadBody), result.name).toBe(true);
          else expect(stored === undefined || stored.equals(uploadBody), result.name).toBe(true);
        }
      } finally {
        await driver.close();
      }
    }, 180_000);
  });
});
