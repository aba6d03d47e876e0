import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WharfError } from "@wharf/errors";
import { freePortBlock, infraDir, parseEnvLines, runInfraScript, tcpAlive } from "./scripts.ts";
import type { AzureEnv, LdapEnv, RegistryEnv, S3Env, ServiceOrigin, WharfServices } from "./types.ts";

/** The file `infra/lib/dev-services.sh` writes for the shared, long-running dev services. */
export const devServicesFile = join(infraDir, "..", ".wharf", "dev-services.env");

type Env = Record<string, string | undefined>;
type ServiceName = "s3" | "swift" | "ldap" | "registry" | "azure";

interface Found<T> {
  value: T;
  origin: ServiceOrigin;
}

export interface RunningServices {
  services: WharfServices;
  /** Stops what was started (never what was reused) and removes its data. Idempotent. */
  stop(): Promise<void>;
}

/** An S3 server's coordinates from `WHARF_<name>_ENDPOINT`, `…_ACCESS_KEY_ID`, … (`S3` for Ceph, `SWIFT_S3` for Swift). */
const s3VarsFor =
  (name: "S3" | "SWIFT_S3") =>
  (v: Env): S3Env | undefined => {
    const [endpoint, region, key, secret, key2, secret2] = [
      "ENDPOINT",
      "REGION",
      "ACCESS_KEY_ID",
      "SECRET_ACCESS_KEY",
      "ACCESS_KEY_ID_2",
      "SECRET_ACCESS_KEY_2",
    ].map((suffix) => v[`WHARF_${name}_${suffix}`]);
    return endpoint && key && secret && key2 && secret2
      ? {
          endpoint,
          region: region || "us-east-1",
          accessKeyId: key,
          secretAccessKey: secret,
          second: { accessKeyId: key2, secretAccessKey: secret2 },
        }
      : undefined;
  };
const s3FromVars = s3VarsFor("S3");
const swiftFromVars = s3VarsFor("SWIFT_S3");

async function ldapFromVars(v: Env): Promise<LdapEnv | undefined> {
  if (!(v.WHARF_LDAP_URL && v.WHARF_LDAPS_URL && v.WHARF_LDAP_CA && v.WHARF_LDAP_BASE_DN)) return undefined;
  return {
    url: v.WHARF_LDAP_URL,
    ldapsUrl: v.WHARF_LDAPS_URL,
    caPath: v.WHARF_LDAP_CA,
    ca: await readFile(v.WHARF_LDAP_CA, "utf8"),
    baseDn: v.WHARF_LDAP_BASE_DN,
    adminDn: v.WHARF_LDAP_ADMIN_DN || `cn=admin,${v.WHARF_LDAP_BASE_DN}`,
    adminPassword: v.WHARF_LDAP_ADMIN_PASSWORD || "adminpw",
  };
}

const registryFromVars = (v: Env): RegistryEnv | undefined =>
  v.WHARF_REGISTRY_URL && (v.WHARF_REGISTRY_AUTH ?? "none") === "none"
    ? { url: v.WHARF_REGISTRY_URL, host: new URL(v.WHARF_REGISTRY_URL).host }
    : undefined;

const azureFromVars = (v: Env): AzureEnv | undefined =>
  v.WHARF_AZURE_ENDPOINT && v.WHARF_AZURE_ACCOUNT && v.WHARF_AZURE_KEY
    ? { endpoint: v.WHARF_AZURE_ENDPOINT, account: v.WHARF_AZURE_ACCOUNT, key: v.WHARF_AZURE_KEY }
    : undefined;

const urlAlive = (url: string) => {
  const u = new URL(url);
  return tcpAlive(u.hostname, Number(u.port));
};

async function fromVars(vars: Env, origin: ServiceOrigin) {
  const s3 = s3FromVars(vars);
  const swift = swiftFromVars(vars);
  const registry = registryFromVars(vars);
  const azure = azureFromVars(vars);
  const ldap = await ldapFromVars(vars).catch(() => undefined);
  const [s3Ok, swiftOk, ldapOk, registryOk, azureOk] = await Promise.all([
    s3 ? urlAlive(s3.endpoint) : false,
    swift ? urlAlive(swift.endpoint) : false,
    ldap ? urlAlive(ldap.url) : false,
    registry ? urlAlive(registry.url) : false,
    azure ? urlAlive(azure.endpoint) : false,
  ]);
  return {
    s3: s3 && s3Ok ? { value: s3, origin } : undefined,
    swift: swift && swiftOk ? { value: swift, origin } : undefined,
    ldap: ldap && ldapOk ? { value: ldap, origin } : undefined,
    registry: registry && registryOk ? { value: registry, origin } : undefined,
    azure: azure && azureOk ? { value: azure, origin } : undefined,
  } satisfies { [K in ServiceName]: Found<WharfServices[K]> | undefined };
}

/**
 * Starts `infra/<dir>/start.sh` on a fresh block of `ports` free loopback ports, retrying on a
 * port collision (another run took the port between the check and the bind).
 */
async function startOne(dir: string, ports: number, dataDir: string, env: Env = {}) {
  const t0 = performance.now();
  for (let attempt = 1; ; attempt++) {
    const port = await freePortBlock(ports);
    try {
      const { vars } = await runInfraScript(`${dir}/start.sh`, [String(port), dataDir], env);
      return { vars, seconds: Math.round((performance.now() - t0) / 100) / 10 };
    } catch (error) {
      const collided =
        error instanceof WharfError && /already in use|Address already in use/.test(error.message);
      if (!collided || attempt >= 3) throw error;
    }
  }
}

/**
 * Starts (or reuses) Ceph RGW, Swift (a second S3 implementation), slapd, docker-registry and
 * Azurite for one test run.
 *
 * Reuse, unless `CI=true`: a service whose coordinates are in the environment (`WHARF_S3_ENDPOINT`…,
 * `WHARF_SWIFT_S3_ENDPOINT`…, `WHARF_LDAP_URL`…, `WHARF_REGISTRY_URL`, `WHARF_AZURE_ENDPOINT`…) and
 * which answers is used as is; with
 * `WHARF_REUSE_DEV_SERVICES=1`, so are the live ones in `.wharf/dev-services.env`. Everything else
 * is started, in parallel, with its data in a fresh temporary folder. A detached watchdog stops
 * the started daemons if this process dies without calling `stop()`.
 */
export async function startServices(env: Env = process.env): Promise<RunningServices> {
  const found: { [K in ServiceName]?: Found<WharfServices[K]> } = {};
  if (env.CI !== "true") {
    const sources: Array<Promise<Awaited<ReturnType<typeof fromVars>>>> = [fromVars(env, "env")];
    if (env.WHARF_REUSE_DEV_SERVICES === "1" && existsSync(devServicesFile))
      sources.push(readFile(devServicesFile, "utf8").then((t) => fromVars(parseEnvLines(t), "dev-services")));
    for (const source of await Promise.all(sources)) {
      found.s3 ??= source.s3;
      found.swift ??= source.swift;
      found.ldap ??= source.ldap;
      found.registry ??= source.registry;
      found.azure ??= source.azure;
    }
  }

  const root = await mkdtemp(join(tmpdir(), "wharf-services-"));
  const started: Array<{ dir: string; data: string }> = [];
  const watchdog = startWatchdog(root);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.allSettled(started.map((s) => runInfraScript(`${s.dir}/stop.sh`, [s.data, "--wipe"])));
    await rm(root, { recursive: true, force: true });
    if (watchdog.pid !== undefined) {
      try {
        process.kill(-watchdog.pid);
      } catch {
        // already gone
      }
    }
  };

  const launch = async <T>(dir: string, ports: number, build: (vars: Env) => T | Promise<T>) => {
    const data = join(root, dir);
    started.push({ dir, data });
    const { vars, seconds } = await startOne(dir, ports, data);
    const value = await build(vars);
    if (value === undefined)
      throw new WharfError("INTERNAL", `infra/${dir}/start.sh printed incomplete output`);
    return { value, seconds };
  };

  try {
    // Ceph: PORT (S3), PORT+1 (monitor), PORT+3…PORT+8 (OSD).
    // Swift: PORT (S3), PORT+1…PORT+3 (object, container, account), PORT+4 (memcached).
    const [s3, swift, ldap, registry, azure] = await Promise.all([
      found.s3 ? undefined : launch("ceph", 9, s3FromVars),
      found.swift ? undefined : launch("swift", 5, swiftFromVars),
      found.ldap ? undefined : launch("slapd", 2, ldapFromVars),
      found.registry ? undefined : launch("registry", 1, registryFromVars),
      found.azure ? undefined : launch("azurite", 1, azureFromVars),
    ]);
    const services: WharfServices = {
      s3: (found.s3?.value ?? s3?.value)!,
      swift: (found.swift?.value ?? swift?.value)!,
      ldap: (found.ldap?.value ?? ldap?.value)!,
      registry: (found.registry?.value ?? registry?.value)!,
      azure: (found.azure?.value ?? azure?.value)!,
      origin: {
        s3: found.s3?.origin ?? "started",
        swift: found.swift?.origin ?? "started",
        ldap: found.ldap?.origin ?? "started",
        registry: found.registry?.origin ?? "started",
        azure: found.azure?.origin ?? "started",
      },
      startSeconds: {
        ...(s3 && { s3: s3.seconds }),
        ...(swift && { swift: swift.seconds }),
        ...(ldap && { ldap: ldap.seconds }),
        ...(registry && { registry: registry.seconds }),
        ...(azure && { azure: azure.seconds }),
      },
    };
    return { services, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * A detached shell that outlives this process: once it is gone, it stops every daemon whose data
 * lives under `root` (by PID file, cmdline-checked) and removes `root`.
 */
function startWatchdog(root: string) {
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const stops = ["ceph", "swift", "slapd", "registry", "azurite"]
    .map((dir) => `bash ${q(`${infraDir}${dir}/stop.sh`)} ${q(join(root, dir))} --wipe`)
    .join("; ");
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${stops}; rm -rf ${q(root)}`;
  const child = spawn("bash", ["-c", script], { detached: true, stdio: "ignore" });
  child.unref();
  return child;
}
