import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
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
import { describe, expect, it } from "vitest";
import { defaultConfigText } from "../src/config.ts";
import { blobsOfImages, total } from "./fixture.ts";

const main = new URL("../src/main.ts", import.meta.url).pathname;

interface Server extends AsyncDisposable {
  url: string;
  process: CheckedServer;
}

/**
 * Starts `node src/main.ts -c <ini>` and resolves with its URL from the "listening" log line. Disposing
 * it stops it with SIGTERM, and fails the test if it logged an uncaught exception, exited by itself,
 * or did not exit 0.
 */
async function startServer(ini: string, env: Record<string, string> = {}): Promise<Server> {
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

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("registry-usage server (node src/main.ts)", () => {
  it("prints the default config and exits 0", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [main, "--print-default-config"]);
    expect(stdout).toBe(defaultConfigText);
  });

  it("lists every config problem and exits 2 before listening", async () => {
    const result = await promisify(execFile)(process.execPath, [main], {
      env: { PATH: process.env.PATH ?? "", PORT: "x", REGISTRY_USAGE_JWT_SECRET_KEY: "short" },
    }).catch((e: { code: number; stderr: string }) => e);
    expect((result as { code: number }).code).toBe(2);
    expect((result as { stderr: string }).stderr).toMatch(
      /socket_port[\s\S]*secret_key|secret_key[\s\S]*socket_port/,
    );
  });

  it("logs in over LDAP, scans the registry into the store, and a restarted replica serves it at once", async () => {
    await using registry = await startRegistry({ auth: "none" });
    await using dir = await tempDir("ru-server-");
    const layout = await buildOciLayout(join(dir.path, "oci"), [
      { ref: "x", image: { layers: [{ seed: `server-${Date.now()}`, size: 4000 }] } },
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
secret_key = server-test-secret-0123456789
[registry]
registry_base_url = ${registry.url}/
username =
access_token =
[storage]
url = ${join(dir.path, "store")}
`,
    );
    const alice = `Basic ${Buffer.from(`alice:${ldapFixture.users.alice.password}`).toString("base64")}`;
    let token: string;
    {
      await using server = await startServer(ini);
      const res = await fetch(`${server.url}/usage/auth_token`, { headers: { authorization: alice } });
      expect(res.status).toBe(200);
      token = ((await res.json()) as { auth_token: string }).auth_token;
      const body = await waitFor(async () => {
        const r = await fetch(`${server.url}/usage/repositories/team%2Fapp`, {
          headers: { authorization: `Bearer ${token}` },
        });
        return r.status === 200 ? ((await r.json()) as { size: number }) : undefined;
      }, "the first scan");
      expect(body.size).toBe(total(blobsOfImages(layout.refs.x!.images)));
      expect((await fetch(`${server.url}/usage/healthz`)).status).toBe(200);
    }
    await using again = await startServer(ini, {});
    const res = await fetch(`${again.url}/usage/repositories?links=true`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    const collection = (await res.json()) as {
      scan: { state: string };
      _links: { items: { href: string }[] };
    };
    expect(collection.scan.state).toBe("ok");
    expect(collection._links.items).toEqual([{ href: "/usage/repositories/team%2Fapp", title: "team/app" }]);
  });
});
