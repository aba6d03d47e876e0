import { WharfError } from "@wharf/errors";
import type { DriverRegistration, OpenStorageOptions } from "./drivers/registration.ts";
import {
  pathRegistration,
  registeredDrivers,
  registrationForKind,
  registrationForScheme,
  type StorageConfig,
} from "./drivers/registry.ts";
import { invalidStorageUrl } from "./drivers/url-options.ts";
import type { StorageDriver } from "./types.ts";
import { withKeyValidation } from "./with-key-validation.ts";

export type { OpenStorageOptions } from "./drivers/registration.ts";
export type { StorageConfig } from "./drivers/registry.ts";

/**
 * Parses a storage URL (format documented in this package's README) without opening anything:
 * the registered driver of its scheme reads it.
 *
 * @example
 * parseStorageUrl("s3://bucket/apps/lfs?endpoint=http://127.0.0.1:7480&region=us-east-1");
 */
export function parseStorageUrl(url: string, options: { cwd?: string } = {}): StorageConfig {
  return parse(url, options.cwd).config;
}

/**
 * The store a URL names, as messages name it: `http://127.0.0.1:7480 (bucket lfs)`, `folder /srv/x`.
 * Never shows credentials (URLs carry none).
 */
export function describeStore(url: string): string {
  const { registration, config } = parse(url);
  return registration.describe(config);
}

/**
 * The folder on this machine that holds the objects of the store a URL names, or undefined when
 * the store is not a local folder (a service, or memory). For what only a local folder has (its
 * folders' own times, free disk space); everything else goes through the driver.
 *
 * @example
 * storageFolder("file:///srv/data"); // "/srv/data"
 * storageFolder("s3://bucket/");      // undefined
 */
export function storageFolder(url: string, options: { cwd?: string } = {}): string | undefined {
  const { registration, config } = parse(url, options.cwd);
  return registration.location === "folder" ? registration.folder?.(config) : undefined;
}

function parse(
  url: string,
  cwd = process.cwd(),
): { registration: DriverRegistration; config: StorageConfig } {
  const context = { url, cwd };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined || (scheme.length === 1 && /^[a-z]:[\\/]/i.test(url))) {
    if (url === "") throw invalidStorageUrl(url, "empty");
    const registration = pathRegistration();
    if (!registration?.parsePath) throw invalidStorageUrl(url, `no scheme (use ${schemeList()})`);
    return { registration, config: registration.parsePath(url, context) as StorageConfig };
  }
  const registration = registrationForScheme(scheme);
  if (!registration) throw invalidStorageUrl(url, `unsupported scheme ${scheme}: (use ${schemeList()})`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw invalidStorageUrl(url, "", cause);
  }
  if (parsed.username || parsed.password)
    throw invalidStorageUrl(url, "credentials do not belong in the URL");
  const unknown = [...new Set(parsed.searchParams.keys())].filter(
    (name) => !registration.options.includes(name),
  );
  if (unknown.length > 0) throw invalidStorageUrl(url, `unknown option(s) ${unknown.join(", ")}`);
  const config = registration.parse(parsed, context);
  if (config.kind !== registration.kind)
    throw new WharfError("INTERNAL", `the ${registration.kind} driver parsed a URL as kind ${config.kind}`);
  return { registration, config: config as StorageConfig };
}

function schemeList(): string {
  const schemes = registeredDrivers().flatMap((registration) => registration.schemes.map((s) => `${s}:`));
  return `${schemes.slice(0, -1).join(", ")} or ${schemes.at(-1)}`;
}

/**
 * Opens the storage a URL names with the driver registered for its scheme, wrapped once in key
 * validation so no driver sees an unchecked key.
 *
 * @example
 * const storage = await openStorage("file:///srv/wharf/data");
 * const storage = await openStorage("s3://my-bucket/lfs/?region=eu-west-1");
 * const storage = await openStorage("azure://myaccount/lfs"); // credentials from AZURE_STORAGE_*
 */
export async function openStorage(url: string, options: OpenStorageOptions = {}): Promise<StorageDriver> {
  const config = parseStorageUrl(url, options.cwd === undefined ? {} : { cwd: options.cwd });
  return withKeyValidation(await registrationForKind(config.kind).open(config, options));
}
