import { readFile } from "node:fs/promises";
import type { Socket } from "node:net";
import { createSecureContext, type SecureContext, TLSSocket } from "node:tls";
import { WharfError } from "@wharf/errors";

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  /** True when no files were configured and a self-signed pair was made for this process. */
  readonly generated: boolean;
}

/** Reads the configured PEM pair, or generates a self-signed one valid for localhost and 127.0.0.1. */
export async function loadTlsMaterial(files: { certFile?: string; keyFile?: string }): Promise<TlsMaterial> {
  if (files.certFile && files.keyFile) {
    const [cert, key] = await Promise.all([
      readFile(files.certFile, "utf8"),
      readFile(files.keyFile, "utf8"),
    ]);
    return { cert, key, generated: false };
  }
  // Loaded only when needed: the generator costs about 10 MiB of resident memory.
  const { generate } = await import("selfsigned");
  const pair = await generate([{ name: "commonName", value: "wharf-ftps-gateway" }], {
    keyType: "ec",
    curve: "P-256",
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  return { cert: pair.cert, key: pair.private, generated: true };
}

/**
 * One TLS context for the control and data connections alike: they share the session ticket keys,
 * so a client can resume the control connection's session on each data connection.
 */
export function createTlsUpgrader(options: {
  cert: string;
  key: string;
  minVersion: "TLSv1.2" | "TLSv1.3";
  /** OpenSSL's key-exchange groups in order of preference (`FTP_TLS_GROUPS`); default OpenSSL's own. */
  groups?: string;
  handshakeTimeoutMs: number;
}) {
  const secureContext: SecureContext = createSecureContext({
    cert: options.cert,
    key: options.key,
    minVersion: options.minVersion,
    ...(options.groups === undefined ? {} : { ecdhCurve: options.groups }),
  });

  /** Runs the server side of a TLS handshake on `socket`; rejects with `UNAUTHENTICATED` on failure. */
  function upgrade(socket: Socket): Promise<TLSSocket> {
    return new Promise((resolve, reject) => {
      const secure = new TLSSocket(socket, { isServer: true, secureContext });
      const timer = setTimeout(() => fail(new Error("TLS handshake timed out")), options.handshakeTimeoutMs);
      const fail = (cause: unknown) => {
        clearTimeout(timer);
        secure.destroy();
        reject(new WharfError("UNAUTHENTICATED", "TLS negotiation failed", { cause }));
      };
      secure.once("error", fail);
      secure.once("close", () => fail(new Error("closed during the TLS handshake")));
      secure.once("secure", () => {
        clearTimeout(timer);
        secure.removeListener("error", fail);
        secure.removeAllListeners("close");
        resolve(secure);
      });
    });
  }

  return { upgrade, secureContext };
}

export type TlsUpgrader = ReturnType<typeof createTlsUpgrader>;
