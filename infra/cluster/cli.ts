/**
 * `./wharf cluster up|down|status`: Ceph RGW (the shared dev services), HAProxy on
 * deploy/haproxy/haproxy.cfg and two replicas of each server app on loopback. State (PIDs, ports,
 * secrets) in .wharf/cluster/cluster.json; everything is stopped by PID.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  alive,
  type ClusterServices,
  loadState,
  planCluster,
  root,
  saveState,
  startHaproxy,
  startReplica,
  stopCluster,
  waitBalanced,
} from "./cluster.ts";

const dir = join(root, ".wharf/cluster");
const devEnvFile = join(root, ".wharf/dev-services.env");

function devServices(): ClusterServices {
  const read = () =>
    Object.fromEntries(
      (existsSync(devEnvFile) ? readFileSync(devEnvFile, "utf8") : "")
        .split("\n")
        .filter((line) => /^\w+=/.test(line))
        .map((line) => [
          line.slice(0, line.indexOf("=")),
          line.slice(line.indexOf("=") + 1).replace(/^"|"$/g, ""),
        ]),
    ) as Record<string, string>;
  let env = read();
  if (!env.WHARF_S3_ENDPOINT || !env.WHARF_LDAP_URL || !env.WHARF_REGISTRY_URL) {
    process.stderr.write("cluster: starting the dev services (Ceph RGW, slapd, registry)…\n");
    execFileSync("bash", [join(root, "infra/lib/dev-services.sh"), "start"], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    env = read();
  }
  return {
    s3: {
      endpoint: env.WHARF_S3_ENDPOINT!,
      region: env.WHARF_S3_REGION ?? "us-east-1",
      accessKeyId: env.WHARF_S3_ACCESS_KEY_ID!,
      secretAccessKey: env.WHARF_S3_SECRET_ACCESS_KEY!,
    },
    ldap: { url: env.WHARF_LDAP_URL!, baseDn: env.WHARF_LDAP_BASE_DN ?? "dc=example,dc=org" },
    registry: { url: env.WHARF_REGISTRY_URL! },
  };
}

/** Creates the bucket with the AWS SDK that test-kit depends on (the one place it is installed). */
function createBucket(services: ClusterServices, bucket: string): void {
  const script = `
    import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
    const [endpoint, region, accessKeyId, secretAccessKey, Bucket] = process.argv.slice(1);
    const client = new S3Client({ endpoint, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
    try { await client.send(new CreateBucketCommand({ Bucket })); }
    catch (e) { if (!["BucketAlreadyOwnedByYou", "BucketAlreadyExists"].includes(e.name)) throw e; }`;
  const { endpoint, region, accessKeyId, secretAccessKey } = services.s3;
  execFileSync(
    process.execPath,
    ["--input-type=module", "-e", script, endpoint, region, accessKeyId, secretAccessKey, bucket],
    { cwd: join(root, "packages/test-kit"), stdio: "inherit" },
  );
}

async function up(): Promise<void> {
  const previous = loadState(dir);
  if (previous && (alive(previous.haproxyPid) || previous.replicas.some((r) => alive(r.pid)))) {
    process.stderr.write("cluster: already up (./wharf cluster status, ./wharf cluster down)\n");
    process.exit(1);
  }
  rmSync(dir, { recursive: true, force: true });
  const services = devServices();
  const state = await planCluster({ dir, services, bucket: "wharf-cluster" });
  createBucket(services, state.bucket);
  try {
    await Promise.all(state.replicas.map((replica) => startReplica(replica)));
    await startHaproxy(state);
    saveState(state);
    await waitBalanced(state);
  } catch (error) {
    saveState(state);
    await stopCluster(state);
    throw error;
  }
  const { urls, secrets } = state;
  process.stdout.write(
    [
      `lfs-router      ${urls.lfs}/<org>/<repo>/info/lfs   (JWT_SECRET=${secrets.jwt}: ./wharf token --secret … --sub alice --scope 'org/*:write')`,
      `bitstore        ${urls.bitstore}/rawstore/authorize   (RS256 tokens: the key is in ${join(dir, "cluster.json")})`,
      `registry-usage  ${urls.registry}/repositories   (LDAP login at ${urls.registry}/auth_token)`,
      `ftps-gateway    ftp://${secrets.ftpUser}:${secrets.ftpPassword}@${urls.ftp.host}:${urls.ftp.port}/   (explicit TLS offered, cert ${state.tls.cert})`,
      `replicas        ${state.replicas.map((r) => `${r.app}/${r.name} pid ${r.pid}`).join(", ")}`,
      `haproxy         pid ${state.haproxyPid}, config deploy/haproxy/haproxy.cfg; logs in ${join(dir, "logs")}`,
      "",
    ].join("\n"),
  );
}

async function down(): Promise<void> {
  const state = loadState(dir);
  if (!state) return void process.stdout.write("cluster: not up\n");
  await stopCluster(state);
  process.stdout.write("cluster: stopped (the dev services keep running: infra/lib/dev-services.sh stop)\n");
}

async function status(): Promise<number> {
  const state = loadState(dir);
  if (!state) {
    process.stdout.write("cluster: not up\n");
    return 1;
  }
  let healthy = alive(state.haproxyPid);
  process.stdout.write(
    `haproxy         ${alive(state.haproxyPid) ? "running" : "stopped"} (pid ${state.haproxyPid})\n`,
  );
  for (const replica of state.replicas) {
    const res = alive(replica.pid)
      ? await fetch(`${replica.url}/healthz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined)
      : undefined;
    const line = !alive(replica.pid)
      ? "stopped"
      : res?.ok
        ? "ready"
        : `not ready (${res?.status ?? "no answer"})`;
    healthy &&= line === "ready";
    process.stdout.write(`${`${replica.app}/${replica.name}`.padEnd(18)}${line} (pid ${replica.pid})\n`);
  }
  return healthy ? 0 : 1;
}

const command = process.argv[2];
process.on("uncaughtException", (error) => {
  process.stderr.write(`cluster: ${error.message}\n`);
  process.exit(1);
});
if (command === "up") await up();
else if (command === "down") await down();
else if (command === "status") process.exitCode = await status();
else {
  process.stderr.write("usage: ./wharf cluster up|down|status\n");
  process.exitCode = 2;
}
