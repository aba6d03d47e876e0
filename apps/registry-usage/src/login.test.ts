import { setImmediate as nextTurn } from "node:timers/promises";
import { WharfError } from "@wharf/errors";
import { createMetrics, recordingLogger } from "@wharf/http-kit";
import { createMemoryDriver } from "@wharf/storage-driver";
import { describe, expect, it } from "vitest";
import { createApp } from "./app.ts";
import type { LoginLimits } from "./config.ts";
import { createSnapshotStore } from "./snapshot-store.ts";

const limits: LoginLimits = {
  maxFailures: 5,
  addressMaxFailures: 20,
  windowMs: 3_600_000,
  lockoutMs: 1_800_000,
};

/** The app with an LDAP whose only password is "right", answering a turn of the event loop later. */
function setup(loginLimits: LoginLimits = limits) {
  const { logger, records } = recordingLogger();
  const ldapCalls: string[] = [];
  const app = createApp({
    config: {
      prefix: "",
      jwt: { secret: "login-test-secret-0123456789", expiresInSeconds: 3600 },
      visibility: { default: ["*"], users: {} },
      login: loginLimits,
    },
    store: createSnapshotStore({ driver: createMemoryDriver(), prefix: "ru/", reloadIntervalMs: 1000 }),
    ldap: {
      async authenticate(username, password) {
        ldapCalls.push(username);
        await nextTurn();
        if (username === "down") throw new WharfError("UNAVAILABLE", "ldap down");
        if (username === "mallory")
          throw new WharfError("UNAUTHENTICATED", "no", { details: { reason: "unknown_user" } });
        if (password !== "right")
          throw new WharfError("UNAUTHENTICATED", "no", { details: { reason: "invalid_credentials" } });
        return username;
      },
    },
    logger,
    metrics: createMetrics({ prefix: "t", defaultMetrics: false }),
  });
  const login = async (user: string, password: string, address = "10.0.0.1") =>
    await app.request(
      "/auth_token",
      { headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` } },
      { incoming: { socket: { remoteAddress: `::ffff:${address}` } } },
    );
  return { login, records, ldapCalls };
}

describe("GET /auth_token brute-force limits", () => {
  it("locks a user name out after 5 failures even when 30 guesses run at once (regression: no limit at all)", async () => {
    const { login, ldapCalls } = setup();
    const statuses = await Promise.all(
      Array.from({ length: 30 }, () => login("alice", "guess").then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(25);
    expect(ldapCalls).toHaveLength(5);
  });

  it("does not reset the count on a right login, and says for how long it is locked", async () => {
    const { login } = setup();
    for (let i = 0; i < 4; i++) expect((await login("alice", "guess")).status).toBe(401);
    expect((await login("alice", "right")).status).toBe(200);
    expect((await login("alice", "guess")).status).toBe(401);
    const locked = await login("ALICE", "right", "10.9.9.9");
    expect(locked.status).toBe(429);
    expect(locked.headers.get("retry-after")).toBe("1800");
    expect(((await locked.json()) as { message: string }).message).toMatch(
      /^too many failed logins for this user name; try again in 30 minute\(s\), after \d{4}-/,
    );
  });

  it("counts failures per address across user names, unless address counting is off", async () => {
    const { login } = setup();
    for (let i = 0; i < 20; i++) expect((await login(`user${i}`, "guess")).status).toBe(401);
    expect((await login("bob", "right")).status).toBe(429);
    expect((await login("bob", "right", "10.0.0.2")).status).toBe(200);
    const behindProxy = setup({ ...limits, addressMaxFailures: 0 });
    for (let i = 0; i < 25; i++) await behindProxy.login(`user${i}`, "guess");
    expect((await behindProxy.login("bob", "right")).status).toBe(200);
  });

  it("logs each lockout and why each login was refused, never the password (regression: nothing said why)", async () => {
    const { login, records } = setup();
    expect((await login("mallory", "secret-guess-1")).status).toBe(401);
    for (let i = 0; i < 5; i++) await login("alice", "secret-guess-2");
    await login("alice", "right");
    const requests = records.filter((r) => r.msg === "request").map((r) => [r.status, r.reason]);
    expect(requests).toEqual([
      [401, "unknown_user"],
      [401, "invalid_credentials"],
      [401, "invalid_credentials"],
      [401, "invalid_credentials"],
      [401, "invalid_credentials"],
      [401, "invalid_credentials"],
      [429, "locked_out"],
    ]);
    expect(records.filter((r) => r.msg === "login locked out")).toEqual([
      expect.objectContaining({
        level: "warn",
        user: "alice",
        address: "10.0.0.1",
        lockedBy: "user",
        until: expect.any(String),
      }),
    ]);
    expect(JSON.stringify(records)).not.toMatch(/secret-guess|right/);
  });

  it("answers a login while LDAP is down with 503 and does not count it", async () => {
    const { login } = setup();
    for (let i = 0; i < 10; i++) expect((await login("down", "x")).status).toBe(503);
    expect((await login("alice", "right")).status).toBe(200);
  });
});
