import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import {
  buildOciLayout,
  type CheckedServer,
  ldapEnv,
  ldapFixture,
  skopeoCopy,
  spawnCheckedServer,
  startRegistry,
  tempDir,
} from "@wharf/test-kit";
import { expect } from "vitest";
import { blobsOfImages, total } from "./fixture.ts";

const main = new URL("../src/main.ts", import.meta.url).pathname;

export interface Server extends AsyncDisposable {
  url: string;
  process: CheckedServer;
}

/**
 * Starts `node src/main.ts -c <ini>` and resolves with its URL from the "listening" log line. Disposing
 * it stops it with SIGTERM, and fails the test if it logged an uncaught exception, exited by itself,
 * or did not exit 0.
 */
export async function startServer(ini: string, env: Record<string, string> = {}): Promise<Server> {
  const server = spawnCheckedServer(main, {
    args: ["-c", ini],
    env: { PATH: process.env.PATH ?? "", ...env },
  });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: server.child.stdout! }).on("line", (line) => {
      const record = JSON.parse(line) as { msg?: string; url?: string };
      if (record.msg === "listening" && record.url) resolve(record.url);
    });
    server.exited.then((code) => reject(new Error(`server exited ${code}: ${server.log()}`)));
  });
  return {
    url,
    process: server,
    async [Symbol.asyncDispose]() {
      server.check();
      expect(await server.stop("SIGTERM"), server.log()).toBe(0);
      await server[Symbol.asyncDispose]();
    },
  };
}

export async function waitFor<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export interface ScanSetup extends AsyncDisposable {
  /** The config file for `startServer`. */
  readonly ini: string;
  /** The bytes of the one image pushed as `team/app:1`. */
  readonly size: number;
  /** `Authorization` header of LDAP user alice, for `/auth_token`. */
  readonly alice: string;
}

/**
 * A dev docker-registry holding one image (`team/app:1`), and a config file for it with LDAP on the
 * shared slapd and the given `[storage]` lines (`dir` is a temporary folder to keep files in).
 */
export async function scanSetup(label: string, storage: (dir: string) => string): Promise<ScanSetup> {
  const registry = await startRegistry({ auth: "none" });
  const dir = await tempDir(`ru-${label}-`);
  const layout = await buildOciLayout(join(dir.path, "oci"), [
    { ref: "x", image: { layers: [{ seed: `${label}-${Date.now()}`, size: 4000 }] } },
  ]);
  await skopeoCopy({ layout, ref: "x", registry: registry.host, repository: "team/app", tag: "1" });
  const ldap = ldapEnv();
  const ini = join(dir.path, "registry-usage.conf");
  await writeFile(
    ini,
    `[general]
socket_port = 0
server_prefix = /usage
log_level = info
[ldap]
host = ${ldap.ldapsUrl}
base_dn = ${ldap.baseDn}
valid_gid = ${ldapFixture.users.alice.gidNumber}
ca_file = ${ldap.caPath}
[jwt]
secret_key = ${label}-test-secret-0123456789
[registry]
registry_base_url = ${registry.url}/
username =
access_token =
[storage]
${storage(dir.path)}
`,
  );
  return {
    ini,
    size: total(blobsOfImages(layout.refs.x!.images)),
    alice: `Basic ${Buffer.from(`alice:${ldapFixture.users.alice.password}`).toString("base64")}`,
    async [Symbol.asyncDispose]() {
      await dir[Symbol.asyncDispose]();
      await registry[Symbol.asyncDispose]();
    },
  };
}

/** A bearer token from `/auth_token` for LDAP Basic credentials. */
export async function login(server: Server, basic: string): Promise<string> {
  const res = await fetch(`${server.url}/usage/auth_token`, { headers: { authorization: basic } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { auth_token: string }).auth_token;
}

/** `team/app` as the server serves it once its first scan is stored. */
export function firstScan(server: Server, token: string): Promise<{ size: number }> {
  return waitFor(async () => {
    const r = await fetch(`${server.url}/usage/repositories/team%2Fapp`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return r.status === 200 ? ((await r.json()) as { size: number }) : undefined;
  }, "the first scan");
}
