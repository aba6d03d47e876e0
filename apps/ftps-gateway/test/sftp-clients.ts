import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { tempDir } from "@wharf/test-kit";
import ssh2 from "ssh2";
import { devHostKey, type HostKey } from "../src/sftp/host-keys.ts";
import { storeBackends } from "./backends.ts";
import { client, type Result } from "./clients.ts";
import { type Gateway, startGateway } from "./harness.ts";

const run = promisify(execFile);

/** A user key pair made by OpenSSH's own `ssh-keygen`; `publicLine` is its authorized_keys line. */
export async function userKey(dir: string, name: string): Promise<{ file: string; publicLine: string }> {
  const file = join(dir, name);
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file]);
  const { stdout } = await run("cat", [`${file}.pub`]);
  return { file, publicLine: stdout.trim() };
}

/** The gateway's host key (generated once into `dir`) and a known_hosts file that pins it. */
export async function pinnedHostKey(
  dir: string,
): Promise<{ key: HostKey; file: string; knownHosts: string }> {
  const file = join(dir, "ssh_host_ed25519_key");
  const key = await devHostKey(file);
  return { key, file, knownHosts: join(dir, "known_hosts") };
}

export async function writeKnownHosts(pinned: { key: HostKey; knownHosts: string }, port: number) {
  const parsed = ssh2.utils.parseKey(pinned.key.pem);
  if (parsed instanceof Error) throw parsed;
  const blob = parsed.getPublicSSH().toString("base64");
  await writeFile(pinned.knownHosts, `[127.0.0.1]:${port} ${parsed.type} ${blob}\n`);
}

export interface SshTarget {
  readonly port: number;
  readonly knownHosts: string;
  readonly identity: string;
  readonly user: string;
}

/** Options every OpenSSH client gets: no config, no agent, only the given key, the pinned host key. */
function sshOptions(t: SshTarget): string[] {
  return [
    "-F",
    "/dev/null",
    "-o",
    "BatchMode=yes",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "IdentityAgent=none",
    "-o",
    `UserKnownHostsFile=${t.knownHosts}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-i",
    t.identity,
  ];
}

/** `sftp -b batchFile` (each line fails the batch unless prefixed with `-`), with `extra` options (`-l 4000`). */
export function sftpBatch(t: SshTarget, batchFile: string, extra: string[] = []): Promise<Result> {
  return client("sftp", [
    ...sshOptions(t),
    ...extra,
    "-P",
    String(t.port),
    "-b",
    batchFile,
    `${t.user}@127.0.0.1`,
  ]);
}

/** `scp` (SFTP protocol, OpenSSH 9's default; `-s` says so explicitly). */
export function scp(t: SshTarget, from: string, to: string): Promise<Result> {
  return client("scp", [...sshOptions(t), "-s", "-P", String(t.port), from, to]);
}

/** `ssh` with extra arguments; resolves with the exit code and output, never rejects. */
export async function ssh(
  t: SshTarget,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run("ssh", [...sshOptions(t), "-p", String(t.port), ...args], {
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** Runs `sftp-paramiko.py <scenario>` with a password login; its last line is JSON. */
export async function paramiko(
  port: number,
  hostKeyFile: string,
  login: string,
  password: string,
  scenario: string,
): Promise<Record<string, unknown>> {
  const script = join(import.meta.dirname, "sftp-paramiko.py");
  const { stdout } = await client("/usr/bin/python3", [
    script,
    String(port),
    hostKeyFile,
    login,
    password,
    scenario,
  ]);
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

/** `lftp sftp://` with a script; lftp runs OpenSSH's `ssh` with the pinned host key and the user key. */
export function lftpSftp(t: SshTarget, script: string): Promise<Result> {
  const ssh = `ssh -a -x -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o UserKnownHostsFile=${t.knownHosts} -i ${t.identity}`;
  return client("lftp", [
    "-e",
    `set sftp:connect-program '${ssh}'; ${script}; bye`,
    "-u",
    `${t.user},`,
    `sftp://127.0.0.1:${t.port}`,
  ]);
}

/** `rclone` with an on-the-fly SFTP remote (`:sftp,…:path`), no config file. */
export function rclone(t: SshTarget, args: string[]): Promise<Result> {
  const remote = `:sftp,host=127.0.0.1,port=${t.port},user=${t.user},key_file=${t.identity},known_hosts_file=${t.knownHosts}:`;
  return client("rclone", ["--config", "/dev/null", ...args.map((arg) => arg.replace(/^remote:/, remote))]);
}

/** A gateway with SFTP on the local-disk store, its host key pinned; releases all of it. */
export async function startSftpGateway(
  env: Record<string, string>,
): Promise<AsyncDisposable & { gateway: Gateway; hostKeyFile: string }> {
  const store = await storeBackends[0]!.open();
  const keys = await tempDir("sftp-keys-");
  const pinned = await pinnedHostKey(keys.path);
  const gateway = await startGateway({
    driver: store.driver,
    hostKeys: [pinned.key],
    env: { SFTP_PORT: "0", SFTP_HOST_KEY_FILE: pinned.file, ...env },
  });
  return {
    gateway,
    hostKeyFile: pinned.file,
    [Symbol.asyncDispose]: async () => {
      await gateway[Symbol.asyncDispose]();
      await keys[Symbol.asyncDispose]();
      await store.dispose();
    },
  };
}
