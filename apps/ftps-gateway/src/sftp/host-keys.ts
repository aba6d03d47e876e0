import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { WharfError } from "@wharf/errors";
import ssh2, { type ParsedKey } from "ssh2";

export interface HostKey {
  /** The private key as read (OpenSSH or PEM format), for ssh2's `hostKeys`. */
  readonly pem: Buffer;
  readonly type: string;
  /** `SHA256:…` as `ssh-keygen -lf` prints it. */
  readonly fingerprint: string;
}

/**
 * Reads the configured host keys. A missing, unreadable or encrypted file, or a public key, fails
 * with `INVALID_ARGUMENT` naming the file (the caller exits 2 with that one line).
 */
export async function loadHostKeys(files: readonly string[]): Promise<HostKey[]> {
  return Promise.all(files.map(async (file) => describe(await readKeyFile(file), file)));
}

/**
 * The dev host key: read from `file`, or generated (ed25519) and written there once, so clients
 * that pinned it keep trusting the gateway across restarts.
 */
export async function devHostKey(file: string): Promise<HostKey> {
  const existing = await readFile(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (existing) return describe(existing, file);
  // ssh2 now and then writes an ed25519 key that its own parser refuses (seen in CI): keep only
  // one that parses, so a dev start never fails on its own key.
  for (let attempt = 1; ; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync("ed25519", { comment: "ftps-gateway dev host key" });
    let key: HostKey;
    try {
      key = describe(Buffer.from(pair.private), file);
    } catch (error) {
      if (attempt < 10) continue;
      throw error;
    }
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, pair.private, { mode: 0o600, flag: "wx" });
    return key;
  }
}

/**
 * The configured host keys or, when none is configured (only allowed in dev, see config.ts), the dev
 * key kept beside the data folder (`STORAGE_URL`'s parent for a local store, else `./.wharf`).
 */
export async function sftpHostKeys(files: readonly string[], storageUrl: string): Promise<HostKey[]> {
  if (files.length > 0) return loadHostKeys(files);
  const local = storageUrl.startsWith("file://") ? fileURLToPath(storageUrl) : storageUrl;
  const dir = isAbsolute(local) ? join(local, "..") : join(process.cwd(), ".wharf");
  return [await devHostKey(join(dir, "ftps-gateway-ssh-host-ed25519-key"))];
}

async function readKeyFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new WharfError("INVALID_ARGUMENT", `SFTP_HOST_KEY_FILE: cannot read ${file} (${reason})`);
  }
}

function describe(pem: Buffer, file: string): HostKey {
  const parsed = ssh2.utils.parseKey(pem);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error || !(key as ParsedKey).isPrivateKey())
    throw new WharfError("INVALID_ARGUMENT", `SFTP_HOST_KEY_FILE: ${file} is not an unencrypted private key`);
  return { pem, type: key.type, fingerprint: fingerprintOf(key.getPublicSSH()) };
}

/** OpenSSH's SHA256 fingerprint of a public key blob. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}
