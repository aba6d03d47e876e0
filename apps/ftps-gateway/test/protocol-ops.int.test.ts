import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { freePort, spawnCheckedServer, tempDir } from "@wharf/test-kit";
import ssh2 from "ssh2";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { storeBackends } from "./backends.ts";
import { client } from "./clients.ts";
import { startGateway, testTls } from "./harness.ts";
import { RawFtp } from "./raw-client.ts";
import {
  paramiko,
  pinnedHostKey,
  type SshTarget,
  sftpBatch,
  startSftpGateway,
  userKey,
  writeKnownHosts,
} from "./sftp-clients.ts";

// Issue 26: FTP and SFTP as two front-ends of one core, with the same limits and operations.

/** The value of one series on /metrics (`name{labels}` exactly as the gateway prints it), 0 when absent. */
async function series(healthUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${healthUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

/** An OpenSSH target on a gateway whose user `u` has a fresh key; known_hosts pins the host key. */
async function opensshSetup(dir: string) {
  const pinned = await pinnedHostKey(dir);
  const key = await userKey(dir, "id_user");
  return {
    pinned,
    key,
    target: (port: number): SshTarget => ({
      port,
      knownHosts: pinned.knownHosts,
      identity: key.file,
      user: "u",
    }),
  };
}

describe("metrics by protocol", () => {
  it("counts sessions, logins, bytes and errors of FTP and SFTP sessions under protocol=", async () => {
    await using started = await startSftpGateway({});
    const { gateway, hostKeyFile } = started;
    const m = (name: string) => series(gateway.healthUrl, name);
    const data = randomBytes(200_000);
    await writeFile(join(gateway.dir, "up.bin"), data);
    const ftpUrl = (path: string, login = "u:p") => `ftp://${login}@127.0.0.1:${gateway.port}${path}`;
    const tls = ["-sS", "--fail", "--ssl-reqd", "--cacert", gateway.caFile];

    // FTP: an upload, a download, a missing file, a wrong password: four sessions.
    await client("curl", [...tls, "-T", join(gateway.dir, "up.bin"), ftpUrl("/ftp.bin")]);
    await client("curl", [...tls, "-o", join(gateway.dir, "down.bin"), ftpUrl("/ftp.bin")]);
    await expect(client("curl", [...tls, ftpUrl("/missing.bin")])).rejects.toThrow(/does not exist|550/);
    await expect(client("curl", [...tls, ftpUrl("/ftp.bin", "u:wrong")])).rejects.toThrow(
      /530|Access denied/,
    );
    // SFTP (paramiko): put, stat, get and remove; a read-only user's refused put and mkdir; a wrong password.
    expect(await paramiko(gateway.sftpPort!, hostKeyFile, "u", "p", "files")).toMatchObject({ same: true });
    expect(await paramiko(gateway.sftpPort!, hostKeyFile, "ro", "ro", "read-only")).toMatchObject({
      put: expect.stringMatching(/Read-only/),
    });
    expect(await paramiko(gateway.sftpPort!, hostKeyFile, "u", "bad", "login")).toEqual({ refused: true });

    await vi.waitFor(async () => {
      expect(await m('ftps_gateway_sessions{protocol="ftp"}')).toBe(0);
      expect(await m('ftps_gateway_sessions{protocol="sftp"}')).toBe(0);
    });
    expect(await m('ftps_gateway_sessions_total{protocol="ftp"}')).toBe(4);
    expect(await m('ftps_gateway_sessions_total{protocol="sftp"}')).toBe(3);
    expect(await m('ftps_gateway_logins_total{protocol="ftp",result="success"}')).toBe(3);
    expect(await m('ftps_gateway_logins_total{protocol="ftp",result="failure"}')).toBe(1);
    expect(await m('ftps_gateway_logins_total{protocol="sftp",result="success"}')).toBe(2);
    expect(await m('ftps_gateway_logins_total{protocol="sftp",result="failure"}')).toBe(1);
    expect(await m('ftps_gateway_transfer_bytes_total{protocol="ftp",direction="upload"}')).toBe(200_000);
    expect(await m('ftps_gateway_transfer_bytes_total{protocol="ftp",direction="download"}')).toBe(200_000);
    expect(await m('ftps_gateway_transfer_bytes_total{protocol="sftp",direction="upload"}')).toBe(300_000);
    // paramiko reads the whole file, then 50,000 bytes from offset 250,000.
    expect(
      await m('ftps_gateway_transfer_bytes_total{protocol="sftp",direction="download"}'),
    ).toBeGreaterThanOrEqual(350_000);
    expect(await m('ftps_gateway_transfers_total{protocol="sftp",direction="upload",outcome="ok"}')).toBe(1);
    expect(await m('ftps_gateway_transfers_total{protocol="ftp",direction="upload",outcome="ok"}')).toBe(1);
    expect(await m('ftps_gateway_errors_total{protocol="ftp",code="NOT_FOUND"}')).toBeGreaterThan(0);
    expect(await m('ftps_gateway_errors_total{protocol="ftp",code="UNAUTHENTICATED"}')).toBe(1);
    expect(await m('ftps_gateway_errors_total{protocol="sftp",code="PERMISSION_DENIED"}')).toBe(2);
    expect(await m('ftps_gateway_errors_total{protocol="sftp",code="NOT_FOUND"}')).toBe(0);
  });
});

describe("limits and operations, the same for SFTP as for FTP", () => {
  it("refuses a connection over the per-address cap cleanly, per protocol, and serves again once one closes", async () => {
    await using keys = await tempDir("sftp-cap-");
    const setup = await opensshSetup(keys.path);
    const store = await storeBackends[0]!.open();
    await using gateway = await startGateway({
      driver: store.driver,
      hostKeys: [setup.pinned.key],
      env: {
        SFTP_PORT: "0",
        SFTP_HOST_KEY_FILE: setup.pinned.file,
        FTP_MAX_CONNECTIONS_PER_IP: "1",
        FTP_USERS__1__AUTHORIZED_KEYS: setup.key.publicLine,
      },
    });
    onTestFinished(() => store.dispose());
    await writeKnownHosts(setup.pinned, gateway.sftpPort!);
    const target = setup.target(gateway.sftpPort!);
    const batch = join(keys.path, "ls.batch");
    await writeFile(batch, "ls\n");

    // One SSH connection logged in holds the address's only SFTP slot.
    const holder = new ssh2.Client();
    holder.on("error", () => {});
    const ready = new Promise<void>((resolve) => holder.once("ready", () => resolve()));
    holder.connect({ host: "127.0.0.1", port: gateway.sftpPort, username: "u", password: "p" });
    await ready;
    await expect(sftpBatch(target, batch)).rejects.toThrow(
      /Received disconnect from 127\.0\.0\.1 port \d+:12: Too many connections from your address/,
    );
    // FTP counts its own connections: one gets in, a second from the address gets 421.
    const ca = await readFile(gateway.caFile, "utf8");
    await using first = await RawFtp.connect(gateway.port, { ca });
    expect((await first.read()).code).toBe(220);
    await using second = await RawFtp.connect(gateway.port, { ca });
    expect(await second.read()).toMatchObject({
      code: 421,
      text: expect.stringMatching(/Too many connections/),
    });
    await second.waitClosed();
    await first.login();
    expect((await first.send("PWD")).code).toBe(257);

    expect(
      await series(
        gateway.healthUrl,
        'ftps_gateway_connections_refused_total{protocol="sftp",reason="per_ip"}',
      ),
    ).toBe(1);
    expect(
      await series(
        gateway.healthUrl,
        'ftps_gateway_connections_refused_total{protocol="ftp",reason="per_ip"}',
      ),
    ).toBe(1);
    holder.end();
    await vi.waitFor(() => expect(gateway.app.sftpSessionCount()).toBe(0));
    expect((await sftpBatch(target, batch)).stderr).not.toMatch(/disconnect/i);
  });

  it("SIGTERM during an SFTP put: readiness goes false, the put completes, the process exits 0", async () => {
    await using dir = await tempDir("sftp-sigterm-");
    const setup = await opensshSetup(dir.path);
    const tls = await testTls();
    await writeFile(join(dir.path, "cert.pem"), tls.cert);
    await writeFile(join(dir.path, "key.pem"), tls.key);
    const [sftpPort, healthPort] = [await freePort(), await freePort()];
    const healthUrl = `http://127.0.0.1:${healthPort}`;
    await using server = spawnCheckedServer(join(import.meta.dirname, "../src/main.ts"), {
      env: {
        PATH: process.env.PATH ?? "",
        STORAGE_URL: join(dir.path, "store"),
        FTP_LISTEN_HOST: "127.0.0.1",
        FTP_COMMAND_PORT: String(await freePort()),
        HEALTHCHECK_PORT: String(healthPort),
        HEALTHCHECK_HOST: "127.0.0.1",
        FTP_TLS_CERT_FILE: join(dir.path, "cert.pem"),
        FTP_TLS_KEY_FILE: join(dir.path, "key.pem"),
        FTP_USERS__1__LOGIN: "u",
        FTP_USERS__1__PASSWORD: "p",
        FTP_USERS__1__AUTHORIZED_KEYS: setup.key.publicLine,
        SFTP_PORT: String(sftpPort),
        SFTP_HOST_KEY_FILE: setup.pinned.file,
        FTP_SHUTDOWN_GRACE_SECONDS: "60",
        LOG_LEVEL: "info",
      },
    });
    await server.waitForOutput('"msg":"listening"');
    await writeKnownHosts(setup.pinned, sftpPort);
    const data = randomBytes(3 * 1024 * 1024);
    await writeFile(join(dir.path, "big.bin"), data);
    const batch = join(dir.path, "put.batch");
    await writeFile(batch, `put ${join(dir.path, "big.bin")} big.bin\n`);
    // -l: about 4 Mbit/s, so the put is still running when the signal comes.
    const put = sftpBatch(setup.target(sftpPort), batch, ["-l", "4000"]);
    const putDone = put.then(
      () => "ok",
      (error: unknown) => String(error),
    );
    const uploaded = 'ftps_gateway_transfer_bytes_total{protocol="sftp",direction="upload"}';
    await vi.waitFor(async () => expect(await series(healthUrl, uploaded)).toBeGreaterThan(0), {
      timeout: 30_000,
    });
    const exited = server.stop("SIGTERM");
    await vi.waitFor(async () => expect((await fetch(`${healthUrl}/healthz`)).status).toBe(503));
    expect(await series(healthUrl, uploaded)).toBeLessThan(data.length);
    expect(await putDone, server.log()).toBe("ok");
    expect(await exited, server.log()).toBe(0);
    expect((await readFile(join(dir.path, "store", "big.bin"))).equals(data)).toBe(true);
    expect(server.log()).toMatch(/"protocol":"sftp".*"msg":"logged in"/);
  }, 120_000);
});
