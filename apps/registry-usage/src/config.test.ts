import { readFileSync } from "node:fs";
import { ConfigError } from "@wharf/http-kit";
import { describe, expect, it } from "vitest";
import { defaultConfigText, loadConfig } from "./config.ts";

const secret = { REGISTRY_USAGE_JWT_SECRET_KEY: "a-real-secret-0123456789" };

function problems(env: Record<string, string>, ini?: string): readonly string[] {
  try {
    loadConfig(env, ini);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

function parseEnvFile(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split("\n")
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

describe("loadConfig", () => {
  it("parses the shipped .env.example", () => {
    const env = parseEnvFile(readFileSync(new URL("../.env.example", import.meta.url), "utf8"));
    const config = loadConfig(env);
    expect(config.port).toBe(8104);
    expect(config.ldap).toMatchObject({
      url: "ldaps://ldap.example.org",
      gidAttribute: "gidNumber",
      validGid: "5000",
    });
    expect(config.jwt.expiresInSeconds).toBe(14 * 24 * 3600);
    expect(config.registry).toMatchObject({
      url: "https://registry.example.org",
      refreshIntervalSeconds: 3600,
    });
    expect(config.notifications).toEqual({
      secret: "change-me-to-another-long-random-secret",
      path: "/events",
      header: "Authorization",
      intervalSeconds: 30,
      reconcileIntervalSeconds: 24 * 3600,
    });
  });

  it("leaves notifications off by default and lists every bad notifications setting", () => {
    expect(loadConfig(secret).notifications).toEqual({
      path: "/events",
      header: "Authorization",
      intervalSeconds: 30,
      reconcileIntervalSeconds: 24 * 3600,
    });
    expect(
      problems({
        ...secret,
        REGISTRY_USAGE_NOTIFICATIONS_SECRET: "short",
        REGISTRY_USAGE_NOTIFICATIONS_PATH: "events/",
        REGISTRY_USAGE_NOTIFICATIONS_HEADER: "X Bad",
        REGISTRY_USAGE_NOTIFICATIONS_RECONCILE_INTERVAL: "10s",
      }).map((p) => p.split(":")[0]),
    ).toEqual([
      "notifications.secret",
      "notifications.path",
      "notifications.header",
      "notifications.reconcile_interval",
    ]);
  });

  it("reads the original's INI file, with its defaults, and lets env win", () => {
    const ini = `[general]
socket_port = 5001
server_prefix = /usage/
debug = True
[ldap]
host = ldap.example.org
[jwt]
auth_token_expires = 3 days
secret_key = from-the-ini-file-0123456789
[registry]
registry_base_url = https://registry.example.org/
`;
    const config = loadConfig({ PORT: "6000" }, ini);
    expect(config).toMatchObject({
      port: 6000,
      host: "0.0.0.0",
      prefix: "/usage",
      debug: true,
      logLevel: "debug",
    });
    expect(config.ldap.url).toBe("ldaps://ldap.example.org");
    expect(config.ldap).toMatchObject({
      usernameAttribute: "uid",
      gidAttribute: "gidNumber",
      validGid: "00000",
    });
    expect(config.jwt).toEqual({ secret: "from-the-ini-file-0123456789", expiresInSeconds: 3 * 86400 });
  });

  it("prints a default config that loads once the placeholder secret is replaced", () => {
    expect(problems({}, defaultConfigText)).toEqual([
      "jwt.secret_key: is still the placeholder of the default config: set a random secret",
    ]);
    expect(loadConfig(secret, defaultConfigText).port).toBe(5000);
  });

  it("reads the shutdown delay from general.shutdown_delay_seconds or SHUTDOWN_DELAY_SECONDS (default 0)", () => {
    expect(loadConfig(secret).shutdownDelayMs).toBe(0);
    expect(loadConfig(secret, "[general]\nshutdown_delay_seconds = 4\n").shutdownDelayMs).toBe(4000);
    expect(loadConfig({ ...secret, SHUTDOWN_DELAY_SECONDS: "1.5" }).shutdownDelayMs).toBe(1500);
    expect(problems({ ...secret, SHUTDOWN_DELAY_SECONDS: "400" })).toEqual([
      'general.shutdown_delay_seconds: must be a number of seconds from 0 to 300, got "400"',
    ]);
  });

  it("lists every problem at once", () => {
    const found = problems({
      PORT: "http",
      REGISTRY_USAGE_GENERAL_SERVER_PREFIX: "usage",
      REGISTRY_USAGE_JWT_AUTH_TOKEN_EXPIRES: "two weeks",
      REGISTRY_USAGE_JWT_SECRET_KEY: "short",
      REGISTRY_USAGE_REGISTRY_REGISTRY_BASE_URL: "registry.example.org",
      REGISTRY_USAGE_REGISTRY_CONCURRENCY: "0",
      REGISTRY_USAGE_LDAP_START_TLS: "maybe",
    });
    expect(found.map((p) => p.split(":")[0]).sort()).toEqual([
      "general.server_prefix",
      "general.socket_port",
      "jwt.auth_token_expires",
      "jwt.secret_key",
      "ldap.start_tls",
      "registry.concurrency",
      "registry.registry_base_url",
    ]);
  });

  it("reports unknown settings in the file and unknown environment variables", () => {
    expect(problems(secret, "[ldap]\nhots = x\n")).toEqual(["ldap: unknown setting(s) hots"]);
    expect(problems({ ...secret, REGISTRY_USAGE_NOPE_X: "1" })[0]).toMatch(/^REGISTRY_USAGE_NOPE_X/);
  });

  it("turns off the gid gate when valid_gid is empty, and reads visibility rules", () => {
    const config = loadConfig(
      { ...secret, REGISTRY_USAGE_LDAP_VALID_GID: "" },
      "[visibility]\ndefault =\nbob = team-a/, team-b/\n",
    );
    expect(config.ldap.gidAttribute).toBeUndefined();
    expect(config.visibility).toEqual({ default: [], users: { bob: ["team-a/", "team-b/"] } });
  });
});
