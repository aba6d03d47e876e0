import { createMemoryDriver } from "@wharf/storage-driver";
import { describe, expect, it } from "vitest";
import { type Gateway, startGateway } from "./harness.ts";
import { RawFtp } from "./raw-client.ts";

/** aioftps3's PBKDF2 test vector: `my-user` / `kOcAeOQ7Pc`, 1,000,000 iterations. */
const hashedUser = {
  FTP_USERS__3__LOGIN: "my-user",
  FTP_USERS__3__PASSWORD_HASHED: "N3HmktqTFxH6RArbScmnwQH3/S3Ow593NFdSVrftp2M=",
  FTP_USERS__3__PASSWORD_SALT: "np1RamJvq2S9YwvvqC5o59fQDFgn4IcBfzmSwJWHvoPMwWCVRUzMePceRbL9FMOT",
};

const gatewayWith = (env: Record<string, string> = {}) =>
  startGateway({ driver: createMemoryDriver(), env: { FTP_TLS_REQUIRED: "false", ...env } });

async function tryLogin(gateway: Gateway, user: string, password: string): Promise<number> {
  await using ftp = await RawFtp.connect(gateway.port, { ca: "" });
  await ftp.read();
  await ftp.send(`USER ${user}`);
  return (await ftp.send(`PASS ${password}`)).code;
}

describe("login throttling", () => {
  it("locks out 30 parallel wrong passwords for a PBKDF2 user after 5 (regression: all 30 got 530)", async () => {
    await using gateway = await gatewayWith(hashedUser);
    const codes = await Promise.all(Array.from({ length: 30 }, () => tryLogin(gateway, "my-user", "wrong")));
    expect(codes.filter((code) => code === 530)).toHaveLength(5);
    expect(codes.filter((code) => code === 421)).toHaveLength(25);
  }, 60_000);

  it("a right login does not clear the failures (regression: 4 wrong + 1 right, repeated, was never locked)", async () => {
    await using gateway = await gatewayWith();
    for (let i = 0; i < 4; i++) expect(await tryLogin(gateway, "u", "wrong")).toBe(530);
    expect(await tryLogin(gateway, "u", "p")).toBe(230);
    expect(await tryLogin(gateway, "u", "wrong")).toBe(530);
    expect(await tryLogin(gateway, "u", "p")).toBe(421);
  });

  it("locks an address that tries several user names, and says in the 421 how long the lock lasts", async () => {
    let now = new Date("2026-01-01T00:00:00Z");
    await using gateway = await startGateway({
      driver: createMemoryDriver(),
      env: { FTP_TLS_REQUIRED: "false", FTP_LOGIN_MAX_FAILURES: "3" },
      now: () => now,
    });
    expect(await tryLogin(gateway, "u", "wrong")).toBe(530);
    expect(await tryLogin(gateway, "nobody", "wrong")).toBe(530);
    expect(await tryLogin(gateway, "ro", "wrong")).toBe(530);
    await using ftp = await RawFtp.connect(gateway.port, { ca: "" });
    await ftp.read();
    await ftp.send("USER ro");
    const refused = await ftp.send("PASS ro");
    expect(refused.code).toBe(421);
    expect(refused.text).toContain(
      "from your address; locked for 30 minutes, until 2026-01-01T00:30:00.000Z",
    );
    await ftp.waitClosed();
    now = new Date("2026-01-01T00:30:00Z");
    expect(await tryLogin(gateway, "ro", "ro")).toBe(230);
  });

  it("logs each lockout with the address, the user name and its end (regression: only a metric counted it)", async () => {
    const now = new Date("2026-01-01T00:00:00Z");
    await using gateway = await startGateway({
      driver: createMemoryDriver(),
      env: { FTP_TLS_REQUIRED: "false", FTP_LOGIN_MAX_FAILURES: "2", FTP_LOGIN_LOCKOUT_SECONDS: "90" },
      now: () => now,
    });
    await tryLogin(gateway, "u", "wrong");
    expect(gateway.log.filter((line) => line.msg === "login locked out")).toEqual([]);
    await tryLogin(gateway, "u", "wrong");
    const lockouts = gateway.log.filter((line) => line.msg === "login locked out");
    expect(lockouts).toEqual([
      expect.objectContaining({
        level: "warn",
        peer: "127.0.0.1",
        login: "u",
        lockedBy: "address",
        until: "2026-01-01T00:01:30.000Z",
      }),
    ]);
    expect(JSON.stringify(gateway.log)).not.toContain("wrong");
    const metrics = await (await fetch(`${gateway.healthUrl}/metrics`)).text();
    expect(metrics).toContain('ftps_gateway_login_lockouts_total{protocol="ftp",by="address"} 1');
  });
});
