/**
 * Shared pieces of the ftps-gateway benchmarks: the gateway as its own process, Debian's vsftpd as
 * the reference (installed by hand: `apt-get install vsftpd`; a local user `wharfbench` is created),
 * and curl as the client for both.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { CreateBucketCommand, DeleteBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { emptyBucket } from "@wharf/test-kit";
import { loadTlsMaterial } from "../apps/ftps-gateway/src/ftp/tls.ts";

export const benchUser = { login: "wharfbench", password: "wharfbench-pw-1" };

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1" }, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function workDir(): Promise<{
  path: string;
  cert: string;
  key: string;
  dispose(): Promise<void>;
}> {
  const path = await mkdtemp(join(tmpdir(), "ftps-bench-"));
  chmodSync(path, 0o755);
  const tls = await loadTlsMaterial({});
  const cert = join(path, "cert.pem");
  const key = join(path, "key.pem");
  writeFileSync(cert, tls.cert);
  writeFileSync(key, tls.key, { mode: 0o600 });
  return { path, cert, key, dispose: () => rm(path, { recursive: true, force: true }) };
}

/** A file of `bytes` random bytes (written in 1 MiB blocks). */
export async function randomFile(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  const blockBytes = 1 << 20;
  for (let written = 0; written < bytes; written += blockBytes) {
    // A fresh block each time: one still queued in the stream must not change under it.
    if (!out.write(randomBytes(Math.min(blockBytes, bytes - written))))
      await new Promise<void>((r) => out.once("drain", () => r()));
  }
  out.end();
  await finished(out);
}

export interface Running {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(true));
      s.listen({ port, host: "127.0.0.1" }, () => s.close(() => resolve(false)));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} never opened`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  };
}

/** The gateway (bin/ftps-gateway.mjs, as its start script runs it) in its own Node process. */
export async function startGateway(options: {
  storageUrl: string;
  cert: string;
  key: string;
  env?: Record<string, string>;
}): Promise<Running> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, "../apps/ftps-gateway/bin/ftps-gateway.mjs")],
    {
      env: {
        ...process.env,
        STORAGE_URL: options.storageUrl,
        FTP_LISTEN_HOST: "127.0.0.1",
        FTP_COMMAND_PORT: String(port),
        FTP_TLS_REQUIRED: "false",
        FTP_TLS_CERT_FILE: options.cert,
        FTP_TLS_KEY_FILE: options.key,
        FTP_USERS__1__LOGIN: benchUser.login,
        FTP_USERS__1__PASSWORD: benchUser.password,
        FTP_MAX_CONNECTIONS: "1000",
        FTP_MAX_CONNECTIONS_PER_IP: "1000",
        FTP_SHUTDOWN_GRACE_SECONDS: "1",
        LOG_LEVEL: "warn",
        // The gateway's recommended runtime setting (its package.json start script; README "Memory").
        NODE_OPTIONS: "--max-semi-space-size=1",
        ...options.env,
      },
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  await waitForPort(port, child);
  return { port, pid: child.pid!, stop: stopper(child) };
}

/** Debian's vsftpd 3.0.3 (real-services.md §5 settings), serving `root` (`local_root`) to the bench user. */
export async function startVsftpd(options: {
  root: string;
  cert: string;
  key: string;
  dir: string;
}): Promise<Running> {
  if (!existsSync("/usr/sbin/vsftpd")) throw new Error("vsftpd is not installed: apt-get install vsftpd");
  try {
    execFileSync("id", [benchUser.login], { stdio: "ignore" });
  } catch {
    execFileSync("useradd", ["-M", "-s", "/bin/bash", "-d", "/", benchUser.login]);
  }
  // vsftpd changes into the user's home before it applies local_root ("500 OOPS: cannot change
  // directory"), so the home must exist: "/" (earlier versions of this file used /nonexistent).
  execFileSync("usermod", ["-d", "/", benchUser.login]);
  execFileSync("chpasswd", { input: `${benchUser.login}:${benchUser.password}\n` });
  execFileSync("chown", [benchUser.login, options.root]);
  const empty = join(options.dir, "vsftpd-empty");
  mkdirSync(empty, { recursive: true });
  const port = await freePort();
  const pasv = 40000 + Math.floor(Math.random() * 20000);
  const conf = join(options.dir, "vsftpd.conf");
  writeFileSync(
    conf,
    [
      "listen=YES",
      "background=NO",
      "listen_address=127.0.0.1",
      `listen_port=${port}`,
      "pasv_enable=YES",
      "pasv_address=127.0.0.1",
      `pasv_min_port=${pasv}`,
      `pasv_max_port=${pasv + 200}`,
      "seccomp_sandbox=NO",
      "isolate=NO",
      "isolate_network=NO",
      "local_enable=YES",
      "write_enable=YES",
      // The root comes from this instance's config, never from the user's home: benches that run at
      // the same time (each with its own vsftpd) used to move the shared user's home under each other.
      `local_root=${options.root}`,
      "chroot_local_user=YES",
      "allow_writeable_chroot=YES",
      `secure_chroot_dir=${empty}`,
      "pam_service_name=vsftpd",
      "ssl_enable=YES",
      "ssl_tlsv1=YES",
      "allow_anon_ssl=NO",
      "force_local_data_ssl=NO",
      "force_local_logins_ssl=NO",
      `rsa_cert_file=${options.cert}`,
      `rsa_private_key_file=${options.key}`,
      "require_ssl_reuse=NO",
      "max_clients=2000",
      "max_per_ip=2000",
      "",
    ].join("\n"),
  );
  const child = spawn("/usr/sbin/vsftpd", [conf], { stdio: ["ignore", "ignore", "inherit"] });
  await waitForPort(port, child);
  return { port, pid: child.pid!, stop: stopper(child) };
}

/** Runs curl against `port`; returns the wall time in seconds. */
/** Runs curl against the bench user's `path` on the server at `port`; rejects unless it exits 0. */
function curl(port: number, tls: boolean, args: string[], path: string, quiet = false): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(
      "curl",
      [
        "-sS",
        "--fail",
        ...(tls ? ["--ssl-reqd", "-k"] : []),
        ...args,
        `ftp://${benchUser.login}:${benchUser.password}@127.0.0.1:${port}${path}`,
      ],
      { stdio: ["ignore", "ignore", quiet ? "ignore" : "inherit"] },
    );
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`curl exited ${code}`))));
  });
}

/** Seconds one curl transfer takes. */
export async function timedCurl(port: number, tls: boolean, args: string[], path: string): Promise<number> {
  const started = performance.now();
  await curl(port, tls, args, path);
  return (performance.now() - started) / 1000;
}

/** Deletes `name` in the server's root with curl (`DELE`); rejects when the server refuses. */
export function ftpDelete(port: number, tls: boolean, name: string): Promise<void> {
  return curl(port, tls, ["-Q", `DELE ${name}`, "-o", "/dev/null"], "/", true);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Peak resident set (VmHWM) of a process, in MiB. */
export function peakRssMiB(pid: number): number {
  const status = execFileSync("cat", [`/proc/${pid}/status`], { encoding: "utf8" });
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** S3 coordinates: WHARF_S3_* from the environment, else the shared dev Ceph (.wharf/dev-services.env). */
export function s3Coordinates(): {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
} {
  const env: Record<string, string | undefined> = { ...process.env };
  const file = join(import.meta.dirname, "../.wharf/dev-services.env");
  if (!env.WHARF_S3_ENDPOINT && existsSync(file)) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const match = /^(WHARF_S3_\w+)=(.*)$/.exec(line);
      if (match) env[match[1]!] = match[2]!.replace(/^"|"$/g, "");
    }
  }
  if (!env.WHARF_S3_ENDPOINT) throw new Error("no S3: set WHARF_S3_* or start the dev services");
  return {
    endpoint: env.WHARF_S3_ENDPOINT,
    region: env.WHARF_S3_REGION ?? "us-east-1",
    accessKeyId: env.WHARF_S3_ACCESS_KEY_ID!,
    secretAccessKey: env.WHARF_S3_SECRET_ACCESS_KEY!,
  };
}

/**
 * A fresh bucket on the S3 store of `s3Coordinates()` for one bench run, the time a direct
 * `@aws-sdk/lib-storage` upload of a file takes there (8 MiB parts, 4 at once: the reference), the
 * storage URL the gateway opens it with, and its removal (deleted bytes stay on Ceph until its garbage
 * collection: leave no bucket behind either).
 */
export async function benchBucket(prefix: string): Promise<{
  readonly client: S3Client;
  readonly name: string;
  readonly storageUrl: string;
  readonly env: Record<string, string>;
  directUploadMBps(file: string, bytes: number): Promise<number>;
  dispose(): Promise<void>;
}> {
  const s3 = s3Coordinates();
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  const name = `${prefix}-${Date.now().toString(36)}`;
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return {
    client,
    name,
    storageUrl: `s3://${name}?endpoint=${encodeURIComponent(s3.endpoint)}&region=${s3.region}&forcePathStyle=true`,
    env: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey },
    async directUploadMBps(file, bytes) {
      const started = performance.now();
      await new Upload({
        client,
        params: { Bucket: name, Key: "direct.bin", Body: createReadStream(file) },
        partSize: 8 * 1024 * 1024,
        queueSize: 4,
      }).done();
      return bytes / 1e6 / ((performance.now() - started) / 1000);
    },
    async dispose() {
      await emptyBucket(client, name).catch(() => {});
      await client.send(new DeleteBucketCommand({ Bucket: name })).catch(() => {});
    },
  };
}
