/**
 * OpenSSH's `sftp` client for the SFTP benchmarks: a host key for the servers under test, a client
 * key they accept, a known_hosts file pinning them, and one timed batch run.
 */
import { execFile, execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { devHostKey } from "../apps/ftps-gateway/src/sftp/host-keys.ts";

export interface SftpClient {
  /** The host key file the servers use. */
  readonly hostKeyFile: string;
  readonly hostFingerprint: string;
  /** The client's public key, as an authorized_keys line. */
  readonly publicKey: string;
  /** Pins the host key for servers on these loopback ports. */
  trust(ports: number[]): void;
  /** Runs one `sftp -b` batch as `login` and returns the seconds it took. */
  timed(port: number, login: string, commands: string[], cipher?: string): Promise<number>;
}

export async function sftpClient(dir: string): Promise<SftpClient> {
  const hostKeyFile = join(dir, "ssh_host_ed25519_key");
  const host = await devHostKey(hostKeyFile);
  const identity = join(dir, "id");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", identity]);
  const publicKey = execFileSync("cat", [`${identity}.pub`], { encoding: "utf8" }).trim();
  const hostLine = execFileSync("ssh-keygen", ["-y", "-f", hostKeyFile], { encoding: "utf8" }).trim();
  const knownHosts = join(dir, "known_hosts");
  let batches = 0;
  return {
    hostKeyFile,
    hostFingerprint: host.fingerprint,
    publicKey,
    trust(ports) {
      writeFileSync(knownHosts, `${ports.map((port) => `[127.0.0.1]:${port} ${hostLine}`).join("\n")}\n`);
    },
    async timed(port, login, commands, cipher) {
      const batch = join(dir, `batch-${batches++}`);
      writeFileSync(batch, `${commands.join("\n")}\n`);
      const started = performance.now();
      await new Promise<void>((resolve, reject) =>
        execFile(
          "sftp",
          [
            ...["-F", "/dev/null", "-o", "BatchMode=yes", "-o", `UserKnownHostsFile=${knownHosts}`],
            ...["-o", "IdentitiesOnly=yes", "-i", identity],
            ...(cipher ? ["-c", cipher] : []),
            ...["-P", String(port), "-b", batch, `${login}@127.0.0.1`],
          ],
          (error, _stdout, stderr) =>
            error ? reject(new Error(`sftp: ${stderr.trim() || error.message}`)) : resolve(),
        ),
      );
      return (performance.now() - started) / 1000;
    },
  };
}
