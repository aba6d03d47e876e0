import { freePort, occupiedPort, spawnServer, type TempDir, tempDir } from "@wharf/test-kit";
import { describe, expect, it } from "vitest";

const appDir = new URL("..", import.meta.url).pathname;

/** registry-usage configured by environment only, its registry and LDAP on ports nothing listens on. */
async function registryUsage(dir: TempDir, env: Record<string, string>) {
  return spawnServer({
    args: ["src/main.ts"],
    cwd: appDir,
    env: {
      REGISTRY_USAGE_CONFIG: "",
      HOST: "127.0.0.1",
      STORAGE_URL: `${dir.path}/store`,
      REGISTRY_USAGE_JWT_SECRET_KEY: "process-test-secret-0123456789",
      REGISTRY_USAGE_REGISTRY_REGISTRY_BASE_URL: `http://127.0.0.1:${await freePort()}/`,
      REGISTRY_USAGE_LDAP_HOST: `ldap://127.0.0.1:${await freePort()}`,
      ...env,
    },
  });
}

describe("registry-usage process", () => {
  it("exits 0 on SIGTERM while its stdout pipe has no reader", async () => {
    await using dir = await tempDir("ru-process-");
    await using server = await registryUsage(dir, { PORT: String(await freePort()) });
    await server.waitFor(/"msg":"listening"/);
    expect(await server.stopWithoutReader()).toBe(0);
  });

  // Regression: with the registry down it logged an ECONNREFUSED stack trace at every retry.
  it("logs a failed scan of an unreachable registry as one line with its cause and no stack", async () => {
    await using dir = await tempDir("ru-process-");
    await using server = await registryUsage(dir, { PORT: String(await freePort()) });
    await server.waitFor(/"msg":"scan failed, serving the last good snapshot"/);
    const line = server
      .stdout()
      .split("\n")
      .find((l) => l.includes("scan failed"));
    const record = JSON.parse(line ?? "{}") as Record<string, unknown>;
    expect(record).toMatchObject({
      level: "warn",
      failures: 1,
      reason: expect.stringContaining("ECONNREFUSED"),
    });
    expect(record).not.toHaveProperty("err");
  });

  it("reports a busy port as one line naming the setting, exit 2", async () => {
    await using dir = await tempDir("ru-process-");
    await using busy = await occupiedPort();
    await using server = await registryUsage(dir, { PORT: String(busy.port) });
    expect(await server.exited).toBe(2);
    expect(server.stderr()).toBe(
      `registry-usage: general.socket_port (PORT): listen EADDRINUSE: address already in use 127.0.0.1:${busy.port}; stop what listens there, or set another socket_port/socket_host (PORT/HOST)\n`,
    );
  });

  it("names an unreadable config file or CA file on one line, exit 2", async () => {
    await using dir = await tempDir("ru-process-");
    await using config = await registryUsage(dir, { REGISTRY_USAGE_CONFIG: `${dir.path}/missing.conf` });
    await using ca = await registryUsage(dir, { REGISTRY_USAGE_LDAP_CA_FILE: `${dir.path}/missing-ca.pem` });
    expect([await config.exited, await ca.exited]).toEqual([2, 2]);
    expect(config.stderr()).toMatch(
      /^registry-usage: REGISTRY_USAGE_CONFIG: cannot read the config file .*missing\.conf: ENOENT.*; point it at a readable config file/,
    );
    expect(ca.stderr()).toMatch(
      /^registry-usage: ldap\.ca_file: ENOENT: .*missing-ca\.pem.*; point it at a readable PEM/,
    );
  });

  it("lists a mistyped storage URL with the configuration problems, exit 2", async () => {
    await using dir = await tempDir("ru-process-");
    await using server = await registryUsage(dir, { STORAGE_URL: "s4://bucket" });
    expect(await server.exited).toBe(2);
    expect(server.stderr()).toMatch(
      /^registry-usage: invalid configuration:\n {2}- storage\.url: .*s4:\/\/bucket/,
    );
  });
});
