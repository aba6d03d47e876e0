import type { AuthEnv } from "@wharf/auth-jwt";
import { WharfError } from "@wharf/errors";
import { createHttpApp, createMetrics, type HttpEnv, silentLogger } from "@wharf/http-kit";
import { describe, expect, it } from "vitest";
import { type LoginGuard, registerLogin } from "./login.ts";

/** A guard with createLoginGuard's contract: locks a user name after two settled failures. */
function twoStrikes(now: number): LoginGuard & { settled: string[] } {
  const failures = new Map<string, number>();
  const settled: string[] = [];
  return {
    settled,
    async begin(who) {
      if ((failures.get(who.user) ?? 0) >= 2) return { lockout: { until: now + 90_000 } };
      return {
        attempt: {
          succeed: () => settled.push(`ok ${who.user}@${who.address}`),
          fail: () => failures.set(who.user, (failures.get(who.user) ?? 0) + 1),
          release: () => settled.push(`released ${who.user}`),
        },
      };
    },
  };
}

describe("POST /login with the login guard", () => {
  it("counts failures per user name, answers a lockout with 429, Retry-After and no cookie", async () => {
    const now = 1_000_000;
    const guard = twoStrikes(now);
    const app = createHttpApp<HttpEnv & AuthEnv>({
      logger: silentLogger(),
      metrics: createMetrics({ prefix: "t", defaultMetrics: false }),
    });
    registerLogin(app, "", {
      session: { prefix: "" },
      ldap: {
        authenticate: async (user, password) => {
          if (password !== "right") throw new WharfError("UNAUTHENTICATED", "no");
          return user;
        },
      },
      issue: async (subject) => `token-of-${subject}`,
      expiresInSeconds: 60,
      guard: { guard, address: () => "192.0.2.7" },
      now: () => now,
    });
    const post = (password: string) =>
      app.request("/login", {
        method: "POST",
        body: new URLSearchParams({ username: "Alice", password }),
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
    expect((await post("right")).status).toBe(303);
    expect(guard.settled).toEqual(["ok alice@192.0.2.7"]);
    expect((await post("wrong")).status).toBe(401);
    expect((await post("wrong")).status).toBe(401);
    const locked = await post("right");
    expect(locked.status).toBe(429);
    expect(locked.headers.get("retry-after")).toBe("90");
    expect(locked.headers.get("set-cookie")).toBeNull();
    expect(await locked.text()).toContain("Too many failed logins: try again in 2 minute(s).");
  });
});
