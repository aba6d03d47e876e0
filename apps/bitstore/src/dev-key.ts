import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Dev mode only: an RSA key pair kept in `file` (created on first use, mode 0600), standing in
 * for the DataHub auth service so `./wharf start` can print a working token.
 */
export function devKeyPair(file: string): { privateKey: string; publicKey: string } {
  if (!existsSync(file)) {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  }
  const privateKey = readFileSync(file, "utf8");
  const publicKey = createPublicKey(createPrivateKey(privateKey)).export({
    type: "spki",
    format: "pem",
  }) as string;
  return { privateKey, publicKey };
}
