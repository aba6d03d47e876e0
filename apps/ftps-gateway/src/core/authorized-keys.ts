import { timingSafeEqual } from "node:crypto";
import ssh2, { type ParsedKey } from "ssh2";

// ssh2 is CommonJS whose exports Node cannot name statically: take them from the default export.
const { utils } = ssh2;

/** Key types a user may log in with; RSA keys sign with `rsa-sha2-256`/`rsa-sha2-512` only. */
const keyTypes = new Set([
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
]);

/**
 * Splits `FTP_USERS__i__AUTHORIZED_KEYS` into its key lines (newlines, or a literal `\n` for env
 * files that cannot hold one; blank lines and `#` comments skipped) and checks each parses as a
 * public key of an accepted type. `authorized_keys` options (`from=`, `command=`) are not supported.
 */
export function authorizedKeyLines(text: string): { lines: string[]; problems: string[] } {
  const lines: string[] = [];
  const problems: string[] = [];
  text.split(/\r?\n|\\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const [type = ""] = line.split(/\s+/, 1);
    const parsed = keyTypes.has(type) ? utils.parseKey(line) : undefined;
    if (!parsed || parsed instanceof Error || parsed.isPrivateKey())
      problems.push(`line ${index + 1} is not an ssh-ed25519, ecdsa-sha2-* or ssh-rsa public key`);
    else lines.push(line);
  });
  return { lines, problems };
}

/** The user's keys, parsed once. */
export function parseAuthorizedKeys(lines: readonly string[]): ParsedKey[] {
  return lines.map((line) => utils.parseKey(line) as ParsedKey);
}

/** The authorized key whose public blob is `blob` (compared in constant time per candidate). */
export function findKey(keys: readonly ParsedKey[], algo: string, blob: Buffer): ParsedKey | undefined {
  return keys.find((key) => {
    const own = key.getPublicSSH();
    return sameType(key.type, algo) && own.length === blob.length && timingSafeEqual(own, blob);
  });
}

/** Whether a signature algorithm is allowed for a key type: RSA only with SHA-2. */
export function signatureAllowed(keyType: string, hashAlgo: string | undefined): boolean {
  if (keyType !== "ssh-rsa") return true;
  return hashAlgo === "sha256" || hashAlgo === "sha512";
}

function sameType(keyType: string, algo: string): boolean {
  return keyType === algo || (keyType === "ssh-rsa" && algo.startsWith("rsa-sha2-"));
}
