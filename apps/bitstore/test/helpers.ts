import { createHash, generateKeyPairSync } from "node:crypto";
import { createIssuer, createVerifier } from "@wharf/auth-jwt";
import { createMetrics, type Logger, silentLogger } from "@wharf/http-kit";
import type { StorageDriver } from "@wharf/storage-driver";
import { createApp } from "../src/app.ts";
import { type Env, loadConfig } from "../src/config.ts";

function pemPair() {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privateKey: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    publicKey: publicKey.export({ type: "spki", format: "pem" }) as string,
  };
}

/** The auth service's key pair, and a stranger's. */
export const authKeys = pemPair();
export const otherKeys = pemPair();

export const service = "rawstore";

/** A DataHub-style token: `userid`, `service`, `permissions["datapackage-upload"]`. */
export async function token(
  userid: string,
  options: {
    claims?: Record<string, unknown>;
    permissions?: Record<string, unknown>;
    privateKey?: string;
    expiresIn?: number;
    now?: Date;
  } = {},
): Promise<string> {
  const issuer = createIssuer({
    algorithm: "RS256",
    privateKey: options.privateKey ?? authKeys.privateKey,
    ...(options.now ? { now: () => options.now as Date } : {}),
  });
  return issuer.issue(
    {
      userid,
      service,
      permissions: { "datapackage-upload": true, ...options.permissions },
      ...options.claims,
    },
    { expiresIn: options.expiresIn ?? 3600 },
  );
}

export function baseEnv(overrides: Env = {}): Env {
  return {
    DATAHUB_PUBLIC_KEY: authKeys.publicKey,
    STORAGE_URL: "memory:",
    PUBLIC_URL: "http://bitstore.test",
    STORAGE_ACCESS_KEY_ID: "LOCALKEY",
    STORAGE_SECRET_ACCESS_KEY: "local-secret-for-tests",
    LOG_LEVEL: "silent",
    ...overrides,
  };
}

export function buildApp(options: { env?: Env; driver: StorageDriver; now?: () => Date; logger?: Logger }) {
  const config = loadConfig(baseEnv(options.env));
  const verifier = createVerifier({ algorithms: ["RS256"], publicKey: authKeys.publicKey });
  return createApp({
    config,
    driver: options.driver,
    verifier,
    logger: options.logger ?? silentLogger(),
    metrics: createMetrics({ prefix: "bitstore_test", defaultMetrics: false }),
    ...(options.now ? { now: options.now } : {}),
  });
}

export const md5 = (data: Uint8Array | string) => createHash("md5").update(data).digest("base64");

export function fileEntry(body: Uint8Array | string, type = "text/csv", name = "data.csv") {
  return { length: Buffer.byteLength(body), md5: md5(body), type, name };
}

export interface UploadForm {
  upload_url: string;
  upload_query: Record<string, string>;
}

/** The body a browser sends for a form: every field, then the file last. */
export function formData(form: UploadForm, body: Uint8Array | string, type?: string): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(form.upload_query)) data.append(name, value);
  data.append(
    "file",
    new Blob([typeof body === "string" ? body : new Uint8Array(body)], {
      type: type ?? form.upload_query["Content-Type"],
    }),
    "upload.bin",
  );
  return data;
}

/** Deterministic pseudo-random bytes. */
export function bytes(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
