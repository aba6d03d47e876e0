import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { defaultConfigText } from "../src/config.ts";
import { firstScan, login, scanSetup, startServer } from "./server-process.ts";

const main = new URL("../src/main.ts", import.meta.url).pathname;

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
    await using setup = await scanSetup("server", (dir) => `url = ${join(dir, "store")}`);
    const { ini, alice } = setup;
    let token: string;
    {
      await using server = await startServer(ini);
      token = await login(server, alice);
      const body = await firstScan(server, token);
      expect(body.size).toBe(setup.size);
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
