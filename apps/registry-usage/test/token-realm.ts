import { execFile } from "node:child_process";
import { createHash, createPublicKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { createIssuer } from "@wharf/auth-jwt";
import { tempDir } from "@wharf/test-kit";

/** The libtrust key id docker-registry wants in `kid`: base32(sha256(DER SPKI)[0:30]) in groups of 4. */
export function libtrustKeyId(certPem: string): string {
  const der = createPublicKey(certPem).export({ type: "spki", format: "der" });
  const bytes = createHash("sha256").update(der).digest().subarray(0, 30);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(":");
}

export interface TokenRealm extends AsyncDisposable {
  /** `http://127.0.0.1:P/jwt/auth`, GitLab's path. */
  readonly realm: string;
  readonly certPath: string;
  /** Token requests received. */
  readonly requests: { scope: string; user: string | undefined }[];
}

/**
 * A GitLab `/jwt/auth` look-alike (real-services.md §3): HTTP Basic → an RS256 token with the
 * requested `access`, signed by a fresh self-signed certificate for the registry's
 * `rootcertbundle`. Unknown users get 401.
 */
export async function startTokenRealm(users: Record<string, string>): Promise<TokenRealm> {
  const dir = await tempDir("ru-token-");
  const keyPath = join(dir.path, "key.pem");
  const certPath = join(dir.path, "cert.pem");
  await promisify(execFile)("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    keyPath,
    "-out",
    certPath,
    "-days",
    "2",
    "-subj",
    "/CN=wharf-token-signer",
  ]);
  const cert = await readFile(certPath, "utf8");
  const issuer = createIssuer({
    algorithm: "RS256",
    privateKey: await readFile(keyPath, "utf8"),
    keyId: libtrustKeyId(cert),
    issuer: "gitlab-issuer",
    audience: "container_registry",
  });
  const requests: TokenRealm["requests"] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const header = req.headers.authorization ?? "";
    const [user, password] = header.startsWith("Basic ")
      ? Buffer.from(header.slice(6), "base64").toString().split(":")
      : [undefined, undefined];
    const scope = url.searchParams.get("scope") ?? "";
    requests.push({ scope, user });
    if (url.pathname !== "/jwt/auth" || !user || users[user] !== password) {
      res
        .writeHead(401, { "content-type": "application/json" })
        .end('{"message":"HTTP Basic: Access denied"}');
      return;
    }
    const access = scope
      .split(" ")
      .filter(Boolean)
      .map((s) => {
        const [type, ...rest] = s.split(":");
        const actions = rest.pop()!.split(",");
        return {
          type,
          name: rest.join(":"),
          actions: actions.includes("*") ? ["pull", "push", "delete", "*"] : actions,
        };
      });
    void issuer.issue({ access }, { expiresIn: 300, subject: user, notBefore: true }).then((token) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/jwt/auth`,
    certPath,
    requests,
    async [Symbol.asyncDispose]() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dir[Symbol.asyncDispose]();
    },
  };
}
