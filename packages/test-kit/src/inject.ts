import { WharfError } from "@wharf/errors";
import { inject } from "vitest";
import type { AzureEnv, LdapEnv, RegistryEnv, S3Env, WharfServices } from "./types.ts";

/** Everything `infra/test/global-setup.ts` provided for this run. */
export function wharfServices(): WharfServices {
  const services = inject("wharfServices");
  if (!services)
    throw new WharfError(
      "UNAVAILABLE",
      "no wharfServices provided: run vitest from the repository root, whose config has infra/test/global-setup.ts",
    );
  return services;
}

/** The S3 server under test (Ceph RGW): endpoint, region and two users' keys. */
export const s3Env = (): S3Env => wharfServices().s3;

/** Swift's s3api, the second S3 implementation (no conditional writes, no browser POST). */
export const swiftS3Env = (): S3Env => wharfServices().swift;

/** The private slapd, seeded with `ldapFixture`. */
export const ldapEnv = (): LdapEnv => wharfServices().ldap;

/** The shared docker-registry (no auth). For an authenticated one, use `startRegistry`. */
export const registryEnv = (): RegistryEnv => wharfServices().registry;

/** The Azure Blob service under test (Azurite): endpoint, account and key. */
export const azureEnv = (): AzureEnv => wharfServices().azure;
