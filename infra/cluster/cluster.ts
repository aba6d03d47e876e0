/**
 * Two replicas of every Wharf server behind HAProxy, on one S3 store: lfs-router, bitstore,
 * registry-usage (HTTP) and ftps-gateway (FTP/FTPS, a passive range per replica forwarded by the
 * balancer). Replicas are real processes (`node apps/<app>/src/main.ts`), so they can be killed;
 * HAProxy runs `deploy/haproxy/haproxy.cfg`, the file the deployment docs offer.
 * Used by `./wharf cluster` (cli.ts) and by the replica tests.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { freePortBlock, tcpAlive } from "../../packages/test-kit/src/scripts.ts";

export const root = resolve(import.meta.dirname, "../..");
export const haproxyConfig = join(root, "deploy/haproxy/haproxy.cfg");

export type AppName = "lfs-router" | "bitstore" | "registry-usage" | "ftps-gateway";
export const apps: readonly AppName[] = ["lfs-router", "bitstore", "registry-usage", "ftps-gateway"];

export interface ClusterServices {
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
  ldap: { url: string; baseDn: string };
  registry: { url: string };
}

export interface Replica {
  readonly app: AppName;
  readonly name: "a" | "b";
  /** HTTP base URL (ftps-gateway: its health port). */
  readonly url: string;
  /** ftps-gateway: host and control port of this replica. */
  readonly ftp?: { host: string; port: number; passive: [number, number] };
  readonly env: Record<string, string>;
  readonly log: string;
  pid: number | undefined;
}

export interface ClusterState {
  readonly dir: string;
  readonly bucket: string;
  /** The balanced entry points. */
  readonly urls: { lfs: string; bitstore: string; registry: string; ftp: { host: string; port: number } };
  readonly replicas: Replica[];
  readonly secrets: { jwt: string; registryJwt: string; ftpUser: string; ftpPassword: string };
  /** PEM private key whose public half bitstore trusts (RS256 tokens). */
  readonly bitstorePrivateKey: string;
  readonly tls: { cert: string; key: string };
  haproxyPid: number | undefined;
  readonly haproxyEnv: Record<string, string>;
}

/** Plans a cluster (ports, secrets, keys, settings) under `dir`; nothing runs yet. */
export async function planCluster(options: {
  dir: string;
  services: ClusterServices;
  bucket: string;
  /** Extra settings per app, on both replicas (e.g. a short registry-usage lease for a test). */
  settings?: Partial<Record<AppName, Record<string, string>>>;
}): Promise<ClusterState> {
  const { dir, services, bucket } = options;
  mkdirSync(join(dir, "logs"), { recursive: true });
  const lb = "127.0.0.1";
  // HAProxy's own address towards the gateways (WHARF_LB_FTP_SOURCE), the only one they trust to send
  // PROXY headers: clients on 127.0.0.1 (a bench, a test) may still reach a gateway directly.
  // 127.0.0.2 and .3 are the gateways'; the replica tests' clients use .4 to .8.
  const lbSource = "127.0.0.9";
  // One block: 4 balanced ports, 3 HTTP apps × 2, 2 gateways × (control + health), 2 × 64 passive.
  // A transfer holds its passive port until it ends, so each range must cover every session that may
  // transfer at once on its gateway (the cluster bench: 50 sessions on one gateway).
  const passivePorts = 64;
  const base = await freePortBlock(16 + 2 * passivePorts);
  const port = (i: number) => base + i;
  const secrets = {
    jwt: randomBytes(24).toString("hex"),
    registryJwt: randomBytes(24).toString("hex"),
    ftpUser: "alice",
    ftpPassword: randomBytes(9).toString("base64url"),
  };
  const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const bitstorePrivateKey = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const bitstorePublicKey = keys.publicKey.export({ type: "spki", format: "pem" }).toString();
  const tls = { cert: join(dir, "tls.crt"), key: join(dir, "tls.key") };
  if (!existsSync(tls.cert))
    execFileSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30"],
        ...[
          "-subj",
          "/CN=127.0.0.1",
          "-addext",
          "subjectAltName=IP:127.0.0.1,IP:127.0.0.2,IP:127.0.0.3,DNS:localhost",
        ],
        ...["-keyout", tls.key, "-out", tls.cert],
      ],
      { stdio: "ignore" },
    );
  const s3Url = (prefix: string) =>
    `s3://${bucket}/${prefix}/?endpoint=${encodeURIComponent(services.s3.endpoint)}&region=${services.s3.region}`;
  const aws = {
    AWS_ACCESS_KEY_ID: services.s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: services.s3.secretAccessKey,
    AWS_REGION: services.s3.region,
  };
  // On SIGTERM each HTTP replica answers /healthz 503 this long before it stops listening: HAProxy's
  // checks (inter 1s, fall 2) take it out in about 2 s.
  const drain = { SHUTDOWN_DELAY_SECONDS: "3" };
  const urls = {
    lfs: `http://${lb}:${port(0)}`,
    bitstore: `http://${lb}:${port(1)}`,
    registry: `http://${lb}:${port(2)}`,
    ftp: { host: lb, port: port(3) },
  };
  const replicas: Replica[] = [];
  const names = ["a", "b"] as const;
  names.forEach((name, i) => {
    const log = (app: string) => join(dir, "logs", `${app}-${name}.log`);
    const lfsPort = port(4 + i);
    replicas.push({
      app: "lfs-router",
      name,
      url: `http://127.0.0.1:${lfsPort}`,
      log: log("lfs-router"),
      pid: undefined,
      env: {
        ...aws,
        ...drain,
        PORT: String(lfsPort),
        HOST: "127.0.0.1",
        STORAGE_URL: s3Url("lfs"),
        JWT_SECRET: secrets.jwt,
        LFS_LINK_SECRET: `${secrets.jwt}-links`,
        PUBLIC_URL: urls.lfs,
        LFS_TRANSFER_MODE: "proxy",
        LOG_LEVEL: "info",
      },
    });
    const bitstorePort = port(6 + i);
    replicas.push({
      app: "bitstore",
      name,
      url: `http://127.0.0.1:${bitstorePort}`,
      log: log("bitstore"),
      pid: undefined,
      env: {
        ...aws,
        ...drain,
        PORT: String(bitstorePort),
        HOST: "127.0.0.1",
        STORAGE_URL: s3Url("bitstore"),
        STORAGE_ACCESS_KEY_ID: services.s3.accessKeyId,
        STORAGE_SECRET_ACCESS_KEY: services.s3.secretAccessKey,
        DATAHUB_PUBLIC_KEY: bitstorePublicKey,
        PUBLIC_URL: urls.bitstore,
        LOG_LEVEL: "info",
      },
    });
    const registryPort = port(8 + i);
    replicas.push({
      app: "registry-usage",
      name,
      url: `http://127.0.0.1:${registryPort}`,
      log: log("registry-usage"),
      pid: undefined,
      env: {
        ...aws,
        ...drain,
        PORT: String(registryPort),
        HOST: "127.0.0.1",
        STORAGE_URL: s3Url("registry-usage"),
        REGISTRY_USAGE_JWT_SECRET_KEY: secrets.registryJwt,
        REGISTRY_USAGE_REGISTRY_REGISTRY_BASE_URL: `${services.registry.url}/`,
        REGISTRY_USAGE_REGISTRY_USERNAME: "",
        REGISTRY_USAGE_REGISTRY_ACCESS_TOKEN: "",
        REGISTRY_USAGE_REGISTRY_REFRESH_INTERVAL: "30 seconds",
        REGISTRY_USAGE_LDAP_HOST: services.ldap.url,
        REGISTRY_USAGE_LDAP_BASE_DN: services.ldap.baseDn,
        LOG_LEVEL: "info",
      },
    });
    // Each gateway on its own loopback address, so that the balancer can hold the passive ports on
    // 127.0.0.1 and forward them to the same port on the gateway that owns the range.
    const host = `127.0.0.${2 + i}`;
    const control = port(10 + i);
    const health = port(12 + i);
    const passive: [number, number] = [port(16 + i * passivePorts), port(16 + (i + 1) * passivePorts - 1)];
    replicas.push({
      app: "ftps-gateway",
      name,
      url: `http://${host}:${health}`,
      ftp: { host, port: control, passive },
      log: log("ftps-gateway"),
      pid: undefined,
      env: {
        ...aws,
        STORAGE_URL: s3Url("ftp"),
        FTP_LISTEN_HOST: host,
        FTP_COMMAND_PORT: String(control),
        FTP_DATA_PORTS_FIRST: String(passive[0]),
        FTP_DATA_PORTS_COUNT: String(passive[1] - passive[0] + 1),
        FTP_DATA_CIDR_TO_DOMAINS__1__CIDR: "0.0.0.0/0",
        FTP_DATA_CIDR_TO_DOMAINS__1__DOMAIN: lb,
        HEALTHCHECK_PORT: String(health),
        HEALTHCHECK_HOST: host,
        FTP_TLS_CERT_FILE: tls.cert,
        FTP_TLS_KEY_FILE: tls.key,
        FTP_TLS_REQUIRED: "false",
        FTP_USERS__1__LOGIN: secrets.ftpUser,
        FTP_USERS__1__PASSWORD: secrets.ftpPassword,
        FTP_USERS__1__HOME: "users/alice",
        FTP_SHUTDOWN_GRACE_SECONDS: "5",
        // HAProxy sends the PROXY protocol (send-proxy-v2) and reaches the gateways from lbSource.
        PROXY_PROTOCOL: "v2",
        PROXY_PROTOCOL_TRUSTED: lbSource,
        LOG_LEVEL: "info",
      },
    });
  });
  for (const r of replicas) Object.assign(r.env, options.settings?.[r.app]);
  const replica = (app: AppName, name: "a" | "b") => replicas.find((r) => r.app === app && r.name === name)!;
  const hostPort = (r: Replica) => new URL(r.url).host;
  const ftpA = replica("ftps-gateway", "a").ftp!;
  const ftpB = replica("ftps-gateway", "b").ftp!;
  const haproxyEnv = {
    WHARF_LB_HOST: lb,
    WHARF_LB_LFS_PORT: String(port(0)),
    WHARF_LB_BITSTORE_PORT: String(port(1)),
    WHARF_LB_REGISTRY_PORT: String(port(2)),
    WHARF_LB_FTP_PORT: String(port(3)),
    WHARF_LB_FTP_SOURCE: lbSource,
    LFS_A: hostPort(replica("lfs-router", "a")),
    LFS_B: hostPort(replica("lfs-router", "b")),
    BITSTORE_A: hostPort(replica("bitstore", "a")),
    BITSTORE_B: hostPort(replica("bitstore", "b")),
    REGISTRY_A: hostPort(replica("registry-usage", "a")),
    REGISTRY_B: hostPort(replica("registry-usage", "b")),
    FTP_A: `${ftpA.host}:${ftpA.port}`,
    FTP_B: `${ftpB.host}:${ftpB.port}`,
    FTP_A_HOST: ftpA.host,
    FTP_B_HOST: ftpB.host,
    FTP_A_HEALTH: String(port(12)),
    FTP_B_HEALTH: String(port(13)),
    FTP_A_PASV: `${ftpA.passive[0]}-${ftpA.passive[1]}`,
    FTP_B_PASV: `${ftpB.passive[0]}-${ftpB.passive[1]}`,
  };
  return {
    dir,
    bucket,
    urls,
    replicas,
    secrets,
    bitstorePrivateKey,
    tls,
    haproxyPid: undefined,
    haproxyEnv,
  };
}

/** Starts one replica's process (detached, output to its log); resolves when it answers /healthz. */
export async function startReplica(
  replica: Replica,
  timeoutMs = 30_000,
  nodeArgs: string[] = [],
): Promise<void> {
  const out = openSync(replica.log, "a");
  const main = join(root, "apps", replica.app, "src/main.ts");
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, main], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...replica.env },
    stdio: ["ignore", out, out],
    detached: true,
  });
  closeSync(out);
  child.unref();
  replica.pid = child.pid;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(replica.pid)) throw new Error(`${replica.app} ${replica.name} exited:\n${tail(replica.log)}`);
    const res = await fetch(`${replica.url}/livez`, { signal: AbortSignal.timeout(1000) }).catch(
      () => undefined,
    );
    if (res?.ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `${replica.app} ${replica.name} did not answer within ${timeoutMs} ms:\n${tail(replica.log)}`,
  );
}

/**
 * Starts HAProxy on the deployment example, validated first (`haproxy -c`), in the foreground of a
 * detached process whose output (HAProxy's request log, `WHARF_LB_LOG=stdout`) goes to
 * `logs/haproxy.log`; resolves once the LFS frontend takes connections.
 */
export async function startHaproxy(state: ClusterState): Promise<void> {
  const env = { ...process.env, WHARF_LB_LOG: "stdout", ...state.haproxyEnv };
  try {
    execFileSync("haproxy", ["-c", "-q", "-f", haproxyConfig], { env, stdio: "pipe" });
  } catch (error) {
    throw new Error(
      `haproxy -c -f ${haproxyConfig}: ${(error as { stderr?: Buffer }).stderr?.toString().trim()}`,
    );
  }
  const log = join(state.dir, "logs", "haproxy.log");
  const out = openSync(log, "a");
  const child = spawn("haproxy", ["-db", "-f", haproxyConfig], {
    env,
    stdio: ["ignore", out, out],
    detached: true,
  });
  closeSync(out);
  child.unref();
  state.haproxyPid = child.pid;
  const port = Number(state.haproxyEnv.WHARF_LB_LFS_PORT);
  const deadline = Date.now() + 10_000;
  while (!(await tcpAlive(state.haproxyEnv.WHARF_LB_HOST ?? "127.0.0.1", port, 500))) {
    if (!alive(child.pid) || Date.now() > deadline) throw new Error(`haproxy did not start:\n${tail(log)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until every started replica is ready and HAProxy's health checks have seen it (or `timeoutMs`). */
export async function waitBalanced(state: ClusterState, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const replica of state.replicas.filter((r) => r.pid !== undefined))
    while (Date.now() < deadline) {
      const res = await fetch(`${replica.url}/healthz`, { signal: AbortSignal.timeout(2000) }).catch(
        () => undefined,
      );
      if (res?.ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  // HAProxy marks a server up after one passing check (rise 1, inter 1s).
  await new Promise((r) => setTimeout(r, 1500));
}

export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a process by PID (SIGTERM, then SIGKILL after `graceMs`), only if it is still ours. */
export async function stopPid(pid: number | undefined, signal: NodeJS.Signals = "SIGTERM", graceMs = 10_000) {
  if (!alive(pid)) return;
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  if (!cmdline.includes("main.ts") && !cmdline.includes("haproxy")) return; // the PID was reused
  process.kill(pid!, signal);
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) process.kill(pid!, "SIGKILL");
}

export async function stopCluster(state: ClusterState): Promise<void> {
  await Promise.all([stopPid(state.haproxyPid), ...state.replicas.map((r) => stopPid(r.pid))]);
}

export function saveState(state: ClusterState): void {
  writeFileSync(join(state.dir, "cluster.json"), `${JSON.stringify(state, null, 2)}\n`);
}

export function loadState(dir: string): ClusterState | undefined {
  const file = join(dir, "cluster.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ClusterState) : undefined;
}

function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(-20).join("\n") : "";
}
