import { describe, expect, it } from "vitest";
import { constantTimeEqual, generateSalt, hashPassword, verifyPassword } from "./secrets.ts";

// aioftps3's upstream test user (originals.md §4.7), at the original's 1,000,000 iterations.
const upstream = {
  password: "kOcAeOQ7Pc",
  salt: "np1RamJvq2S9YwvvqC5o59fQDFgn4IcBfzmSwJWHvoPMwWCVRUzMePceRbL9FMOT",
  hash: "N3HmktqTFxH6RArbScmnwQH3/S3Ow593NFdSVrftp2M=",
};

describe("password hashes in aioftps3's format", () => {
  it("verifies aioftps3's upstream test vector and refuses a wrong password", async () => {
    const stored = { hash: upstream.hash, salt: upstream.salt };
    expect(await verifyPassword(upstream.password, stored)).toBe(true);
    expect(await verifyPassword("kOcAeOQ7Pd", stored)).toBe(false);
  });

  it("reproduces the upstream hash from the password and salt", async () => {
    expect(await hashPassword(upstream.password, { salt: upstream.salt })).toEqual({
      hash: upstream.hash,
      salt: upstream.salt,
    });
  });

  it("round-trips a fresh hash with a random 64-character salt", async () => {
    const stored = await hashPassword("correct horse", { iterations: 1000 });
    expect(stored.salt).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(await verifyPassword("correct horse", stored, { iterations: 1000 })).toBe(true);
    expect(await verifyPassword("correct horsf", stored, { iterations: 1000 })).toBe(false);
  });

  it("never matches an empty password or a malformed stored hash", async () => {
    expect(await verifyPassword("", { hash: upstream.hash, salt: upstream.salt }, { iterations: 1000 })).toBe(
      false,
    );
    expect(
      await verifyPassword("x", { hash: "not-base64-of-32-bytes", salt: "s" }, { iterations: 1000 }),
    ).toBe(false);
    await expect(hashPassword("")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("generates distinct salts", () => {
    expect(generateSalt()).not.toBe(generateSalt());
    expect(generateSalt(16)).toHaveLength(16);
  });
});

describe("constantTimeEqual", () => {
  it.each([
    ["abc", "abc", true],
    ["abc", "abd", false],
    ["abc", "abcd", false],
    ["", "", true],
    ["", "a", false],
  ])("%j vs %j → %s", (a, b, equal) => {
    expect(constantTimeEqual(a, b)).toBe(equal);
    expect(constantTimeEqual(Buffer.from(a), b)).toBe(equal);
  });
});
