import { isWharfError } from "@wharf/errors";
import { describe, expect, it } from "vitest";
import { createAuthenticator } from "./auth.ts";
import { basic, secret, token } from "./test-support.ts";

const start = new Date("2026-06-01T12:00:00Z");

function authenticator(clock: { now: Date }, tokenCacheSize?: number) {
  return createAuthenticator({
    secret,
    algorithms: ["HS256"],
    anonymousRead: [],
    unscopedTokenScopes: [],
    now: () => clock.now,
    ...(tokenCacheSize === undefined ? {} : { tokenCacheSize }),
  });
}
const headers = (authorization: string) => new Headers({ Authorization: authorization });
const reasonOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return "accepted";
  } catch (error) {
    if (!isWharfError(error, "UNAUTHENTICATED")) throw error;
    return String(error.details?.reason);
  }
};

describe("token verification cache", () => {
  it("refuses a token once it expires, though it was accepted (and cached) before", async () => {
    const clock = { now: start };
    const auth = authenticator(clock);
    const jwt = await token("bob", "org/repo:write", { now: start, expiresIn: 60 });
    for (let i = 0; i < 3; i++)
      expect((await auth.authenticate(headers(basic("bob", jwt)), "http://lfs.test/"))?.name).toBe("bob");
    clock.now = new Date(start.getTime() + 59_000);
    expect(await reasonOf(auth.authenticate(headers(basic("bob", jwt)), "http://lfs.test/"))).toBe(
      "accepted",
    );
    clock.now = new Date(start.getTime() + 66_000);
    expect(await reasonOf(auth.authenticate(headers(basic("bob", jwt)), "http://lfs.test/"))).toBe("expired");
  });

  it("still refuses a tampered token and a user name that is not the token's after a valid use", async () => {
    const clock = { now: start };
    const auth = authenticator(clock);
    const jwt = await token("bob", "org/repo:write", { now: start });
    await auth.authenticate(headers(basic("bob", jwt)), "http://lfs.test/");
    const last = jwt.at(-1) === "A" ? "B" : "A";
    const tampered = `${jwt.slice(0, -1)}${last}`;
    expect(await reasonOf(auth.authenticate(headers(basic("bob", tampered)), "http://lfs.test/"))).toBe(
      "bad_signature",
    );
    expect(await reasonOf(auth.authenticate(headers(basic("alice", jwt)), "http://lfs.test/"))).toBe(
      "claim_mismatch",
    );
    expect(await reasonOf(auth.authenticate(headers(`Bearer ${jwt}`), "http://lfs.test/"))).toBe("accepted");
  });

  it("gives cached tokens the same scopes as freshly verified ones", async () => {
    const clock = { now: start };
    const cached = authenticator(clock);
    const uncached = authenticator(clock, 0);
    const jwt = await token("bob", "org/repo:read", { now: start });
    for (const auth of [cached, cached, uncached]) {
      const principal = await auth.authenticate(headers(basic("bob", jwt)), "http://lfs.test/");
      expect(() => auth.authorize(principal, "org/repo", "read")).not.toThrow();
      expect(() => auth.authorize(principal, "org/repo", "write")).toThrow(/may not write/);
    }
  });
});
