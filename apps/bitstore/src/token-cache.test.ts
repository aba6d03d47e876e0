import { describe, expect, it } from "vitest";
import { cacheVerifiedTokens } from "./token-cache.ts";

function counting(claims: Record<string, unknown>) {
  let calls = 0;
  return {
    verifier: {
      async verify(token: string) {
        calls++;
        if (token === "bad") throw new Error("bad signature");
        return claims;
      },
    },
    calls: () => calls,
  };
}

describe("cacheVerifiedTokens", () => {
  it("checks a token once while it is fresh, and again after the ttl", async () => {
    let clock = 1_000_000;
    const inner = counting({ userid: "bob", exp: 10_000 });
    const cached = cacheVerifiedTokens(inner.verifier, { ttlMs: 60_000, now: () => new Date(clock) });
    await cached.verify("t");
    await cached.verify("t");
    expect(inner.calls()).toBe(1);
    clock += 60_000;
    await cached.verify("t");
    expect(inner.calls()).toBe(2);
  });

  it("never answers from the cache once the token's exp has passed", async () => {
    let clock = 1_000_000;
    const inner = counting({ userid: "bob", exp: 1_010 });
    const cached = cacheVerifiedTokens(inner.verifier, { now: () => new Date(clock) });
    await cached.verify("t");
    clock = 1_010_000;
    await cached.verify("t");
    expect(inner.calls()).toBe(2);
  });

  it("does not remember a token that failed", async () => {
    const inner = counting({});
    const cached = cacheVerifiedTokens(inner.verifier);
    await expect(cached.verify("bad")).rejects.toThrow("bad signature");
    await expect(cached.verify("bad")).rejects.toThrow("bad signature");
    expect(inner.calls()).toBe(2);
  });
});
