import { createIssuer, createVerifier } from "@wharf/auth-jwt";
import { describe, expect, it } from "vitest";
import { createAuthenticator, createLoginGuard } from "./auth.ts";

describe("createAuthenticator", () => {
  it("accepts aioftps3's PBKDF2 test vector and rejects a wrong password", async () => {
    const auth = createAuthenticator({
      users: [
        {
          login: "my-user",
          passwordHashed: "N3HmktqTFxH6RArbScmnwQH3/S3Ow593NFdSVrftp2M=",
          passwordSalt: "np1RamJvq2S9YwvvqC5o59fQDFgn4IcBfzmSwJWHvoPMwWCVRUzMePceRbL9FMOT",
          home: "",
          access: "rw",
        },
      ],
    });
    expect(await auth.authenticate("my-user", "kOcAeOQ7Pc")).toMatchObject({
      login: "my-user",
      via: "password",
    });
    expect(await auth.authenticate("my-user", "kOcAeOQ7Pc")).toMatchObject({ login: "my-user" });
    expect(await auth.authenticate("my-user", "wrong")).toBeUndefined();
  });

  it("answers the same for an unknown user and a wrong password", async () => {
    const auth = createAuthenticator({ users: [{ login: "u", password: "p", home: "h", access: "ro" }] });
    expect(await auth.authenticate("u", "p")).toEqual({
      login: "u",
      home: "h",
      access: "ro",
      via: "password",
    });
    expect(await auth.authenticate("u", "x")).toBeUndefined();
    expect(await auth.authenticate("nobody", "p")).toBeUndefined();
  });

  it("accepts a JWT as the password when its subject and scopes fit", async () => {
    const secret = "0123456789abcdef0123456789abcdef";
    const now = () => new Date("2024-06-01T00:00:00Z");
    const issuer = createIssuer({ algorithm: "HS256", secret, now });
    const verifier = createVerifier({ algorithms: ["HS256"], secret, now });
    const auth = createAuthenticator({ users: [], jwt: { verifier, home: "users/{user}" } });
    const write = await issuer.issue({ scope: "ftp/bob:write" }, { expiresIn: "1h", subject: "bob" });
    const read = await issuer.issue({ scope: "ftp/*:read" }, { expiresIn: "1h", subject: "bob" });
    const other = await issuer.issue({ scope: "lfs/*:write" }, { expiresIn: "1h", subject: "bob" });
    expect(await auth.authenticate("bob", write)).toEqual({
      login: "bob",
      home: "users/bob",
      access: "rw",
      via: "jwt",
    });
    expect(await auth.authenticate("bob", read)).toMatchObject({ access: "ro" });
    expect(await auth.authenticate("bob", other)).toBeUndefined();
    expect(await auth.authenticate("alice", write)).toBeUndefined();
    expect(await auth.authenticate("bob", `${write}x`)).toBeUndefined();
  });
});

describe("createLoginGuard", () => {
  it("locks an address after maxFailures within the window, and unlocks after the lockout", () => {
    let t = 0;
    const guard = createLoginGuard({ maxFailures: 3, windowMs: 1000, lockoutMs: 5000, now: () => t });
    guard.fail("1.2.3.4");
    guard.fail("1.2.3.4");
    expect(guard.isLocked("1.2.3.4")).toBe(false);
    guard.fail("1.2.3.4");
    expect(guard.isLocked("1.2.3.4")).toBe(true);
    expect(guard.isLocked("5.6.7.8")).toBe(false);
    t = 5001;
    expect(guard.isLocked("1.2.3.4")).toBe(false);
  });

  it("forgets failures older than the window and resets on success", () => {
    let t = 0;
    const guard = createLoginGuard({ maxFailures: 2, windowMs: 1000, lockoutMs: 5000, now: () => t });
    guard.fail("ip");
    t = 1500;
    guard.fail("ip");
    expect(guard.isLocked("ip")).toBe(false);
    guard.succeed("ip");
    guard.fail("ip");
    expect(guard.isLocked("ip")).toBe(false);
    expect(guard.size()).toBe(1);
  });
});
