import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { readFile, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { readAll, type StorageDriver } from "@wharf/storage-driver";
import { tempDir } from "@wharf/test-kit";
import ssh2 from "ssh2";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { storeBackends } from "./backends.ts";
import { type Gateway, startGateway } from "./harness.ts";
import { RawFtp } from "./raw-client.ts";
import {
  lftpSftp,
  paramiko,
  pinnedHostKey,
  rclone,
  type SshTarget,
  scp,
  sftpBatch,
  ssh,
  startSftpGateway,
  userKey,
  writeKnownHosts,
} from "./sftp-clients.ts";

describe.each(storeBackends)("SFTP with real clients on $name", (backend) => {
  let gateway: Gateway;
  let driver: StorageDriver;
  let dispose: () => Promise<void>;
  let multipartUploads: (() => Promise<number>) | undefined;
  let work: string;
  let hostKeyFile: string;
  let target: SshTarget;
  let wrongKey: string;
  let data: Buffer;

  beforeAll(async () => {
    const opened = await backend.open();
    ({ driver, dispose, multipartUploads } = opened);
    const bootstrap = await startGateway({ driver });
    work = bootstrap.dir;
    await bootstrap.app.close(0);
    const pinned = await pinnedHostKey(work);
    hostKeyFile = pinned.file;
    const key = await userKey(work, "id_user");
    wrongKey = (await userKey(work, "id_other")).file;
    gateway = await startGateway({
      driver,
      hostKeys: [pinned.key],
      env: {
        SFTP_PORT: "0",
        SFTP_HOST_KEY_FILE: pinned.file,
        FTP_USERS__1__AUTHORIZED_KEYS: key.publicLine,
        FTP_USERS__3__LOGIN: "h",
        FTP_USERS__3__PASSWORD: "h",
        FTP_USERS__3__HOME: "mine",
      },
    });
    await writeKnownHosts(pinned, gateway.sftpPort!);
    target = { port: gateway.sftpPort!, knownHosts: pinned.knownHosts, identity: key.file, user: "u" };
    data = randomBytes(1_200_000);
    await writeFile(join(work, "data.bin"), data);
  });
  afterAll(async () => {
    await gateway?.[Symbol.asyncDispose]();
    await dispose?.();
  });

  const batch = async (name: string, lines: string[]) => {
    const file = join(work, `${name}.batch`);
    await writeFile(file, `${lines.join("\n")}\n`);
    return sftpBatch(target, file);
  };

  it("OpenSSH sftp with an ed25519 key puts, lists, renames, gets, removes; chmod is accepted", async () => {
    const result = await batch("basic", [
      "mkdir d",
      `put ${join(work, "data.bin")} d/a.bin`,
      "chmod 600 d/a.bin",
      "ls -l d",
      "rename d/a.bin d/b.bin",
      `get d/b.bin ${join(work, "back.bin")}`,
    ]);
    expect(result.stdout).toMatch(/-rw-rw-rw- 1 none none 1200000 .* a\.bin/);
    expect((await readFile(join(work, "back.bin"))).equals(data)).toBe(true);
    expect((await readAll((await driver.get("d/b.bin")).body)).equals(data)).toBe(true);
    await expect(driver.head("d/a.bin")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await batch("cleanup", ["rm d/b.bin", "rmdir d"]);
    await expect(driver.head("d/b.bin")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("OpenSSH sftp resumes an upload (reput) and a download (reget)", async () => {
    await driver.put("resume.bin", data.subarray(0, 400_000));
    await writeFile(join(work, "partial.bin"), data.subarray(0, 700_000));
    await batch("resume", [
      `reput ${join(work, "data.bin")} resume.bin`,
      `reget resume.bin ${join(work, "partial.bin")}`,
    ]);
    expect((await readAll((await driver.get("resume.bin")).body)).equals(data)).toBe(true);
    expect((await readFile(join(work, "partial.bin"))).equals(data)).toBe(true);
  });

  it("scp (SFTP protocol) copies both ways", async () => {
    await scp(target, join(work, "data.bin"), `u@127.0.0.1:scp.bin`);
    await scp(target, `u@127.0.0.1:scp.bin`, join(work, "scp-back.bin"));
    expect((await readFile(join(work, "scp-back.bin"))).equals(data)).toBe(true);
  });

  it("lftp sftp:// puts, lists, gets and removes", async () => {
    const back = join(work, "lftp-back.bin");
    const result = await lftpSftp(
      target,
      `put ${join(work, "data.bin")} -o lftp.bin; ls; get lftp.bin -o ${back}; rm lftp.bin`,
    );
    expect(result.stdout).toMatch(/1200000 .* lftp\.bin/);
    expect((await readFile(back)).equals(data)).toBe(true);
    await expect(driver.head("lftp.bin")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("rclone (SFTP backend) copies both ways and lists", async () => {
    await rclone(target, ["copyto", join(work, "data.bin"), "remote:rc/data.bin"]);
    expect((await rclone(target, ["lsl", "remote:rc"])).stdout).toMatch(/1200000 .* data\.bin/);
    await rclone(target, ["copyto", "remote:rc/data.bin", join(work, "rclone-back.bin")]);
    expect((await readFile(join(work, "rclone-back.bin"))).equals(data)).toBe(true);
  });

  it("paramiko with a password: put, stat, setstat ignored, posix-rename, ranged get, remove", async () => {
    const result = await paramiko(target.port, hostKeyFile, "u", "p", "files");
    expect(result).toMatchObject({
      size: 300_000,
      same: true,
      tail_same: true,
      listing: ["b.bin"],
      realpath: "/py/b.bin",
    });
    expect(result.after).not.toContain("py");
  });

  it("refuses a wrong password and a key the user does not have", async () => {
    expect(await paramiko(target.port, hostKeyFile, "u", "wrong", "login")).toEqual({ refused: true });
    const wrong = await ssh({ ...target, identity: wrongKey }, ["-s", "u@127.0.0.1", "sftp"]);
    expect(wrong.code).toBe(255);
    expect(wrong.stderr).toContain("Permission denied");
  });

  it("refuses exec, shell and port forwarding after a good login", async () => {
    const exec = await ssh(target, ["u@127.0.0.1", "echo", "pwned"]);
    expect(exec.code).not.toBe(0);
    expect(exec.stdout).not.toContain("pwned");
    const shell = await ssh(target, ["-T", "u@127.0.0.1"]);
    expect(shell.code).not.toBe(0);
    const forward = await ssh(target, ["-W", `127.0.0.1:${gateway.port}`, "u@127.0.0.1"]);
    expect(forward.code).toBe(255);
    expect(forward.stderr).toMatch(/open failed|prohibited/);
  });

  it("keeps a user in their home: .. stops at it, other prefixes are out of reach", async () => {
    await driver.put("other/secret.txt", "secret");
    await driver.put("mine/own.txt", "own");
    const result = await paramiko(target.port, hostKeyFile, "h", "h", "outside");
    expect(result).toMatchObject({ root: ["own.txt"], up: ["own.txt"], realpath: "/" });
    expect(result.secret).toMatch(/No such file/);
  });

  it("refuses a write that leaves a hole and a rewrite, and stores nothing of either", async () => {
    const hole = await paramiko(target.port, hostKeyFile, "u", "p", "hole");
    expect(hole.error).toMatch(/hole/);
    expect(hole.stat).toMatch(/No such file/);
    await expect(driver.head("hole.bin")).rejects.toMatchObject({ code: "NOT_FOUND" });
    const rewrite = await paramiko(target.port, hostKeyFile, "u", "p", "rewrite");
    expect(rewrite.error).toMatch(/not supported|Rewriting/);
    await expect(driver.head("rewrite.bin")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("stores nothing of an upload whose client vanished half way, and keeps serving", async () => {
    expect(await paramiko(target.port, hostKeyFile, "u", "p", "drop")).toEqual({ written: 12 << 20 });
    await vi.waitFor(() => expect(gateway.app.sftpSessionCount()).toBe(0), { timeout: 10_000 });
    await vi.waitFor(() => expect(gateway.app.pendingAborts()).toBe(0), { timeout: 10_000 });
    await expect(driver.head("dropped.bin")).rejects.toMatchObject({ code: "NOT_FOUND" });
    if (multipartUploads) expect(await multipartUploads()).toBe(0);
    await scp(target, join(work, "data.bin"), "u@127.0.0.1:after-drop.bin");
    expect((await driver.head("after-drop.bin")).size).toBe(data.length);
  });

  it("lets a read-only user read but not write", async () => {
    const result = await paramiko(target.port, hostKeyFile, "ro", "ro", "read-only");
    expect(result.put).toMatch(/Permission denied|Read-only/);
    expect(result.mkdir).toMatch(/Permission denied|Read-only/);
  });
});

describe("SFTP logins share FTP's lockout; start-up checks", () => {
  it("locks an address out after the configured failed passwords, for SFTP and FTP alike", async () => {
    await using started = await startSftpGateway({ FTP_LOGIN_MAX_FAILURES: "2" });
    const { gateway, hostKeyFile } = started;
    const login = (password: string) => paramiko(gateway.sftpPort!, hostKeyFile, "u", password, "login");
    expect(await login("p")).toEqual({ refused: false });
    expect(await login("bad1")).toEqual({ refused: true });
    expect(await login("bad2")).toEqual({ refused: true });
    expect(await login("p")).toEqual({ refused: true });
    await using ftp = await RawFtp.connect(gateway.port, { ca: await readFile(gateway.caFile, "utf8") });
    await ftp.read();
    await expect(ftp.login("u", "p")).rejects.toThrow(/Too many failed logins/);
  });

  it("closes a connection that does not log in in time, and a logged-in one left idle", async () => {
    await using started = await startSftpGateway({
      SFTP_LOGIN_TIMEOUT_SECONDS: "0.3",
      FTP_IDLE_TIMEOUT_SECONDS: "0.3",
    });
    const { gateway } = started;
    const silent = connect({ host: "127.0.0.1", port: gateway.sftpPort! });
    silent.on("data", () => {});
    await once(silent, "close");
    const idle = new ssh2.Client();
    const ended = once(idle, "close");
    idle.on("error", () => {});
    idle.on("ready", () => idle.sftp(() => {}));
    idle.connect({ host: "127.0.0.1", port: gateway.sftpPort, username: "u", password: "p" });
    await ended;
    // The client can see the close before the server has counted the session out.
    await vi.waitFor(() => expect(gateway.app.sftpSessionCount()).toBe(0), { timeout: 5_000 });
  });

  it("exits 2 naming the problem, without a stack, when SFTP_PORT is set without a usable host key", async () => {
    await using dir = await tempDir("sftp-start-");
    const main = join(import.meta.dirname, "../src/main.ts");
    const env = {
      PATH: process.env.PATH ?? "",
      STORAGE_URL: dir.path,
      FTP_COMMAND_PORT: "0",
      FTP_LISTEN_HOST: "127.0.0.1",
      FTP_USERS__1__LOGIN: "u",
      FTP_USERS__1__PASSWORD: "p",
      SFTP_PORT: "0",
      FTP_TLS_SELF_SIGNED: "true",
    };
    const start = (extra: Record<string, string>) =>
      spawnSync(process.execPath, [main], { env: { ...env, ...extra }, encoding: "utf8", timeout: 30_000 });
    const unset = start({});
    expect(unset.status).toBe(2);
    expect(unset.stderr).toBe(
      "ftps-gateway: invalid configuration:\n  - SFTP_HOST_KEY_FILE: required when SFTP_PORT is set (a generated key is only for dev, WHARF_DEV=1)\n",
    );
    const missing = start({ SFTP_HOST_KEY_FILE: join(dir.path, "missing-key") });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(
      `ftps-gateway: SFTP_HOST_KEY_FILE: cannot read ${join(dir.path, "missing-key")} (ENOENT)\n`,
    );
  });
});
