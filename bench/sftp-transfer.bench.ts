/**
 * SFTP put and get of 1 GiB with OpenSSH's `sftp` client, against the gateway's SFTP listener (fs
 * driver) and, in the same run, against OpenSSH's own sshd with `internal-sftp` (a throwaway config
 * on 127.0.0.1, a port of its own, stopped by PID), both writing to the same disk. The client keeps
 * its default cipher choice (chacha20-poly1305: ssh2 without its optional native build runs it on
 * Node's chacha20 and a WebAssembly Poly1305); further rounds pin aes128-gcm, and aes128-ctr (with
 * OpenSSH's MAC choice, hmac-sha2-256-etm at the gateway), for both. The last line is the default put.
 * `pnpm bench sftp-transfer [MiB]`
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, randomFile, startGateway, waitForPort, workDir } from "./ftps-lib.ts";
import { sftpClient } from "./sftp-lib.ts";

const mib = Number(process.argv[2] ?? 1024);
const bytes = mib * 1024 * 1024;
const dir = await workDir();
const source = join(dir.path, "source.bin");
await randomFile(source, bytes);
for (const sub of ["gateway", "sshd"]) mkdirSync(join(dir.path, sub));

const client = await sftpClient(dir.path);

const gatewaySftp = await freePort();
const gateway = await startGateway({
  storageUrl: `file://${join(dir.path, "gateway")}`,
  cert: dir.cert,
  key: dir.key,
  env: {
    SFTP_PORT: String(gatewaySftp),
    SFTP_HOST_KEY_FILE: client.hostKeyFile,
    FTP_USERS__1__AUTHORIZED_KEYS: client.publicKey,
  },
});

/** sshd with internal-sftp for the current (root) user, key login only, on loopback. */
async function startSshd(): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const config = join(dir.path, "sshd_config");
  const authorized = join(dir.path, "authorized_keys");
  writeFileSync(authorized, `${client.publicKey}\n`);
  writeFileSync(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${client.hostKeyFile}`,
      `PidFile ${join(dir.path, "sshd.pid")}`,
      `AuthorizedKeysFile ${authorized}`,
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "UsePAM no",
      "StrictModes no",
      "Subsystem sftp internal-sftp",
      "",
    ].join("\n"),
  );
  mkdirSync("/run/sshd", { recursive: true });
  // -e: its log on stderr (not syslog), dropped here; -q: errors only.
  const child = spawn("/usr/sbin/sshd", ["-D", "-e", "-q", "-f", config], { stdio: "ignore" });
  await waitForPort(port, child);
  return { port, child };
}
const sshd = await startSshd();
const user = execFileSync("id", ["-un"], { encoding: "utf8" }).trim();

client.trust([gatewaySftp, sshd.port]);

const rate = (seconds: number) => bytes / 1e6 / seconds;
const out = join(dir.path, "out.bin");
const targets = [
  { name: "gateway", port: gatewaySftp, login: "wharfbench", path: "big.bin" },
  { name: "sshd", port: sshd.port, login: user, path: join(dir.path, "sshd", "big.bin") },
];
const figures: Record<string, number> = {};
try {
  process.stdout.write(`ssh host key ${client.hostFingerprint}; ${mib} MiB\n`);
  for (const cipher of [undefined, "aes128-gcm@openssh.com", "aes128-ctr"]) {
    const label = cipher ?? "default cipher";
    for (const direction of ["put", "get"] as const) {
      const measured: number[] = [];
      for (const t of targets) {
        const commands = direction === "put" ? [`put ${source} ${t.path}`] : [`get ${t.path} ${out}`];
        measured.push(rate(await client.timed(t.port, t.login, commands, cipher)));
      }
      const [gw = 0, ref = 0] = measured;
      figures[`${label} ${direction}`] = gw / ref;
      process.stdout.write(
        `${label} ${direction}: gateway ${gw.toFixed(0)} MB/s, sshd internal-sftp ${ref.toFixed(0)} MB/s (${(gw / ref).toFixed(2)}x)\n`,
      );
      if (direction === "put") figures[`${label} put gateway`] = gw;
      if (direction === "put") figures[`${label} put sshd`] = ref;
    }
  }
} finally {
  const exited = new Promise((resolve) => sshd.child.once("exit", resolve));
  sshd.child.kill("SIGTERM");
  await exited;
  await gateway.stop();
  await dir.dispose();
}
const gw = figures["default cipher put gateway"] ?? 0;
const ref = figures["default cipher put sshd"] ?? 0;
process.stdout.write(
  `sftp-transfer: ${gw.toFixed(0)} MB/s SFTP put of ${mib} MiB, fs driver (${(gw / ref).toFixed(2)}x OpenSSH sshd internal-sftp ${ref.toFixed(0)} MB/s)\n`,
);
