import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isWharfError } from "@wharf/errors";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";

function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) env[match[1]!] = match[2]!;
  }
  return env;
}

describe("loadConfig", () => {
  it("parses .env.example", () => {
    const config = loadConfig(
      parseEnvFile(readFileSync(join(import.meta.dirname, "../../.env.example"), "utf8")),
    );
    expect(config.users.map((u) => [u.login, u.home, u.access])).toEqual([
      ["alice", "users/alice", "rw"],
      ["my-user", "", "ro"],
    ]);
    expect(config.passivePorts).toEqual({ first: 30000, count: 50 });
    expect(config.passiveAddresses).toEqual([{ cidr: "0.0.0.0/0", domain: "127.0.0.1" }]);
    expect(config.implicitPort).toBe(2990);
  });

  it("accepts aioftps3's environment and builds an s3 storage URL from the bucket settings", () => {
    const config = loadConfig({
      AWS_AUTH_MECHANISM: "secret_access_key",
      AWS_S3_BUCKET__NAME: "my-bucket",
      AWS_S3_BUCKET__HOST: "s3-eu-west-1.amazonaws.com",
      AWS_S3_BUCKET__REGION: "eu-west-1",
      AWS_S3_BUCKET__DIR_SUFFIX: "/.s3keep",
      FTP_USERS__1__LOGIN: "my-user",
      FTP_USERS__1__PASSWORD: "pw",
      FTP_COMMAND_PORT: "8021",
      FTP_DATA_PORTS_FIRST: "4001",
      FTP_DATA_PORTS_COUNT: "2",
      HEALTHCHECK_PORT: "8022",
      ACME_PATH: "/tmp/acme",
    });
    expect(config.storageUrl).toBe(
      "s3://my-bucket?forcePathStyle=true&endpoint=https%3A%2F%2Fs3-eu-west-1.amazonaws.com&region=eu-west-1",
    );
    expect(config.commandPort).toBe(8021);
    expect(config.health).toEqual({ port: 8022, host: "0.0.0.0" });
  });

  it("accepts the README's single-underscore bucket names", () => {
    const config = loadConfig({
      AWS_S3_BUCKET_NAME: "b",
      AWS_S3_BUCKET_DIR_SUFFIX: "/.keep",
      FTP_USERS__1__LOGIN: "u",
      FTP_USERS__1__PASSWORD: "p",
    });
    expect(config.storageUrl).toMatch(/^s3:\/\/b\?/);
    expect(config.dirSuffix).toBe("/.keep");
  });

  it("accepts aioftps3's README suffix / (S3 folder markers)", () => {
    const config = loadConfig({
      STORAGE_URL: "memory://",
      FTP_USERS__1__LOGIN: "a",
      FTP_USERS__1__PASSWORD: "b",
      AWS_S3_BUCKET__DIR_SUFFIX: "/",
    });
    expect(config.dirSuffix).toBe("/");
  });

  it("reports every problem at once with INVALID_ARGUMENT", () => {
    try {
      loadConfig({
        FTP_COMMAND_PORT: "99999",
        FTP_USERS__1__LOGIN: "a b",
        FTP_USERS__2__LOGIN: "c",
        FTP_DATA_PORTS_COUNT: "5",
        AWS_S3_BUCKET__DIR_SUFFIX: "keep",
      });
      expect.unreachable();
    } catch (error) {
      expect(isWharfError(error, "INVALID_ARGUMENT")).toBe(true);
      const problems = (error as { problems: string[] }).problems.join("\n");
      for (const name of [
        "STORAGE_URL",
        "FTP_COMMAND_PORT",
        "FTP_DATA_PORTS_FIRST",
        "AWS_S3_BUCKET__DIR_SUFFIX",
        "FTP_USERS__1__LOGIN",
        "FTP_USERS__2__",
      ])
        expect(problems).toContain(name);
    }
  });

  it("reads the PROXY protocol setting and its trusted balancers, which it requires when on", () => {
    const base = { STORAGE_URL: "memory://", FTP_USERS__1__LOGIN: "a", FTP_USERS__1__PASSWORD: "b" };
    expect(loadConfig(base).proxyProtocol).toEqual({ versions: [], trusted: [] });
    expect(
      loadConfig({ ...base, PROXY_PROTOCOL: "any", PROXY_PROTOCOL_TRUSTED: "10.0.0.0/8, 192.0.2.7,::1/128" })
        .proxyProtocol,
    ).toEqual({ versions: [1, 2], trusted: ["10.0.0.0/8", "192.0.2.7", "::1/128"] });
    expect(() => loadConfig({ ...base, PROXY_PROTOCOL: "v2" })).toThrow(/PROXY_PROTOCOL_TRUSTED/);
    expect(() => loadConfig({ ...base, PROXY_PROTOCOL: "v3", PROXY_PROTOCOL_TRUSTED: "haproxy" })).toThrow(
      /PROXY_PROTOCOL[\s\S]*PROXY_PROTOCOL_TRUSTED/,
    );
  });

  it("takes FTP_TLS_GROUPS that OpenSSL knows and refuses others at start", () => {
    const base = { STORAGE_URL: "memory://", FTP_USERS__1__LOGIN: "a", FTP_USERS__1__PASSWORD: "b" };
    expect(loadConfig(base).tls.groups).toBeUndefined();
    expect(loadConfig({ ...base, FTP_TLS_GROUPS: "X25519:P-256" }).tls.groups).toBe("X25519:P-256");
    expect(() => loadConfig({ ...base, FTP_TLS_GROUPS: "X25519:bogus" })).toThrow(/FTP_TLS_GROUPS/);
  });

  it("refuses a configuration nobody can log in to", () => {
    expect(() => loadConfig({ STORAGE_URL: "memory://" })).toThrow(/FTP_USERS/);
  });

  it("lets the dev profile relax the login lockout while production keeps 5 failures and 30 minutes (regression: a developer was locked out for 30 minutes)", () => {
    const manifest = JSON.parse(readFileSync(join(import.meta.dirname, "../../package.json"), "utf8")) as {
      wharf: { dev: { env: Record<string, string> } };
    };
    const devEnv = Object.fromEntries(
      Object.entries(manifest.wharf.dev.env).map(([name, value]) => [
        name,
        value.replace(/\$\{(\w+)\}/g, (_, v: string) =>
          v === "DATA" ? "/tmp/data" : "0123456789abcdef0123",
        ),
      ]),
    );
    // As `./wharf start` runs it.
    const dev = loadConfig({ ...devEnv, WHARF_DEV: "1" }).login;
    expect(dev.lockoutMs).toBeLessThanOrEqual(60_000);
    expect(dev.maxFailures).toBeGreaterThanOrEqual(5);
    const production = loadConfig({
      STORAGE_URL: "memory://",
      FTP_USERS__1__LOGIN: "a",
      FTP_USERS__1__PASSWORD: "b",
    });
    expect(production.login).toEqual({
      maxFailures: 5,
      windowMs: 3_600_000,
      lockoutMs: 1_800_000,
      failureDelayMs: 1000,
    });
  });
});
