import { createHash } from "node:crypto";
import { createIssuer } from "@wharf/auth-jwt";
import type { Logger } from "@wharf/http-kit";
import { createMemoryDriver, type StorageDriver } from "@wharf/storage-driver";
import { type AppConfig, createApp } from "./app.ts";
import { createLinkSigner } from "./links.ts";

export const secret = "unit-test-secret-0123456789";
export const lfsHeaders = {
  Accept: "application/vnd.git-lfs+json",
  "Content-Type": "application/vnd.git-lfs+json; charset=utf-8",
};

export function testConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  return {
    keyPrefix: "",
    jwt: { secret, algorithms: ["HS256"] },
    linkSecret: "link-secret-for-tests",
    expiresIn: 3600,
    maxBatchObjects: 100,
    anonymousRead: [],
    unscopedTokenScopes: [],
    realm: "Git LFS",
    locking: true,
    ...overrides,
  };
}

/** An HS256 token; `scope` as the `scope` claim unless undefined (a timone-style unscoped token). */
export async function token(
  username: string,
  scope: string | undefined,
  options: { expiresIn?: number | string; now?: Date; claims?: Record<string, unknown> } = {},
): Promise<string> {
  const issuer = createIssuer({
    algorithm: "HS256",
    secret,
    ...(options.now ? { now: () => options.now as Date } : {}),
  });
  return issuer.issue(
    { username, ...(scope === undefined ? {} : { scope }), ...options.claims },
    { expiresIn: options.expiresIn ?? "1h" },
  );
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

export function blob(text: string): { data: Buffer; oid: string; size: number } {
  const data = Buffer.from(text);
  return { data, oid: createHash("sha256").update(data).digest("hex"), size: data.length };
}

/**
 * The path and signed query of `object`'s verify link, as a batch response handed it out before
 * proxied uploads stopped getting one (clients mid-push still call it).
 */
export function verifyPath(
  repo: string,
  object: { oid: string; size: number },
  config: AppConfig = testConfig(),
): string {
  const query = createLinkSigner(config.linkSecret).sign(
    { method: "POST", repo, oid: object.oid, size: object.size },
    config.expiresIn,
  );
  return `/${repo}/info/lfs/objects/${object.oid}/verify?${query}`;
}

/** A router on the memory driver in proxy mode, with request helpers. */
export function harness(
  overrides: Partial<AppConfig> = {},
  driver: StorageDriver = createMemoryDriver(),
  logger?: Logger,
) {
  const app = createApp({
    config: testConfig(overrides),
    driver,
    mode: "proxy",
    ...(logger ? { logger } : {}),
  });
  const batch = (repo: string, body: unknown, auth?: string, extra: Record<string, string> = {}) =>
    app.request(`http://lfs.test/${repo}/info/lfs/objects/batch`, {
      method: "POST",
      headers: { ...lfsHeaders, ...(auth ? { Authorization: auth } : {}), ...extra },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  const call = (
    method: string,
    url: string,
    body?: unknown,
    auth?: string,
    headers: Record<string, string> = {},
  ) =>
    app.request(url.startsWith("http") ? url : `http://lfs.test${url}`, {
      method,
      headers: { ...lfsHeaders, ...(auth ? { Authorization: auth } : {}), ...headers },
      ...(body === undefined
        ? {}
        : { body: typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body) }),
    });
  const verifyLink = (repo: string, object: { oid: string; size: number }) =>
    `http://lfs.test${verifyPath(repo, object, testConfig(overrides))}`;
  return { app, driver, batch, call, verifyLink };
}
