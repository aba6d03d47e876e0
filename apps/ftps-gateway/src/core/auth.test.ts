import {
  createIssuer,
  createVerifier,
  hashPassword,
  type PasswordHash,
  verifyPassword,
} from "@wharf/auth-jwt";
import { describe, expect, it } from "vitest";
import { createAuthenticator } from "./auth.ts";

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

describe("equal work for every refused password", () => {
  it("derives PBKDF2 once for an unknown user, a wrong plain and a wrong hashed password (regression: an unknown user skipped it, a timing oracle)", async () => {
    const iterations = 10;
    const stored = await hashPassword("right", { iterations });
    let derivations = 0;
    const counting = (password: string, hash: PasswordHash) => {
      derivations++;
      return verifyPassword(password, hash, { iterations });
    };
    const auth = createAuthenticator({
      users: [
        { login: "hashed", passwordHashed: stored.hash, passwordSalt: stored.salt, home: "", access: "rw" },
        { login: "plain", password: "right", home: "", access: "rw" },
      ],
      verifyPassword: counting,
    });
    const work = async (login: string, password: string) => {
      derivations = 0;
      const principal = await auth.authenticate(login, password);
      return { ok: principal !== undefined, derivations };
    };
    expect(await work("hashed", "wrong")).toEqual({ ok: false, derivations: 1 });
    expect(await work("nobody", "wrong")).toEqual({ ok: false, derivations: 1 });
    expect(await work("plain", "wrong")).toEqual({ ok: false, derivations: 1 });
    expect(await work("hashed", "right")).toEqual({ ok: true, derivations: 1 });
    expect(await work("hashed", "right")).toEqual({ ok: true, derivations: 0 });
    expect(await work("hashed", "wrong")).toEqual({ ok: false, derivations: 1 });
    expect(await work("plain", "right")).toEqual({ ok: true, derivations: 0 });
  });

  it("derives nothing when no user has a hashed password", async () => {
    let derivations = 0;
    const auth = createAuthenticator({
      users: [{ login: "plain", password: "right", home: "", access: "rw" }],
      verifyPassword: async () => {
        derivations++;
        return false;
      },
    });
    expect(await auth.authenticate("nobody", "x")).toBeUndefined();
    expect(await auth.authenticate("plain", "x")).toBeUndefined();
    expect(derivations).toBe(0);
  });
});
