import { WharfError } from "@wharf/errors";
import { type AzureConfig, azureRegistration } from "./azure/registration.ts";
import { type FsConfig, fsRegistration } from "./fs/registration.ts";
import { type MemoryConfig, memoryRegistration } from "./memory/registration.ts";
import type { DriverConfig, DriverRegistration } from "./registration.ts";
import { type S3Config, s3Registration } from "./s3/registration.ts";

/** The parsed form of a storage URL of a built-in driver. */
export type StorageConfig = MemoryConfig | FsConfig | S3Config | AzureConfig;

/** The drivers `openStorage` knows. A new driver adds its registration here, and a README row. */
const registrations: DriverRegistration[] = [
  memoryRegistration,
  fsRegistration,
  s3Registration,
  azureRegistration,
];

/**
 * Adds a driver to those `openStorage`, `parseStorageUrl` and `describeStore` know, for drivers
 * that live outside this package (and tests). Its kind and schemes must be new.
 *
 * @example
 * registerDriver({ kind: "mem+test", schemes: ["mem+test"], …, open: async () => createMemoryDriver() });
 */
export function registerDriver<Config extends DriverConfig>(registration: DriverRegistration<Config>): void {
  const taken = registration.schemes.filter((scheme) => registrationForScheme(scheme) !== undefined);
  if (registrations.some((known) => known.kind === registration.kind) || taken.length > 0)
    throw new WharfError(
      "ALREADY_EXISTS",
      `a storage driver already serves ${taken.length > 0 ? `scheme ${taken.join(", ")}` : `kind ${registration.kind}`}`,
    );
  if (registration.parsePath && registrations.some((known) => known.parsePath))
    throw new WharfError("ALREADY_EXISTS", "a storage driver already takes bare paths");
  registrations.push(registration as unknown as DriverRegistration);
}

/** Every registered driver, in registration order. */
export function registeredDrivers(): readonly DriverRegistration[] {
  return [...registrations];
}

export function registrationForScheme(scheme: string): DriverRegistration | undefined {
  return registrations.find((registration) => registration.schemes.includes(scheme));
}

export function registrationForKind(kind: string): DriverRegistration {
  const found = registrations.find((registration) => registration.kind === kind);
  if (!found) throw new WharfError("INVALID_ARGUMENT", `no storage driver of kind ${kind}`);
  return found;
}

/** The driver that takes URLs without a scheme (plain paths), if any. */
export function pathRegistration(): DriverRegistration | undefined {
  return registrations.find((registration) => registration.parsePath !== undefined);
}
