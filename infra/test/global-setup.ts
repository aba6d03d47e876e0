/**
 * Runs once per vitest run, in the main process: starts (or reuses) Ceph RGW, Swift, slapd,
 * docker-registry and Azurite in parallel and provides their coordinates to every project as
 * `wharfServices` (read them in tests through `@wharf/test-kit`: `s3Env()`, `swiftS3Env()`,
 * `ldapEnv()`, `registryEnv()`, `azureEnv()`).
 * Reuse rules are in `startServices` (packages/test-kit/src/services.ts); CI=true always starts fresh.
 * WHARF_SERVICES=none starts nothing (unit-only runs); `wharfServices()` then fails with UNAVAILABLE.
 */
import type { TestProject } from "vitest/node";
import { startServices } from "../../packages/test-kit/src/services.ts";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.WHARF_SERVICES === "none") return async () => {};
  const t0 = performance.now();
  const { services, stop } = await startServices();
  project.provide("wharfServices", services);
  if (process.env.WHARF_SERVICES_QUIET !== "1") {
    const parts = (["s3", "swift", "ldap", "registry", "azure"] as const).map((name) => {
      const seconds = services.startSeconds[name];
      return `${name} ${services.origin[name]}${seconds === undefined ? "" : ` in ${seconds}s`}`;
    });
    const total = ((performance.now() - t0) / 1000).toFixed(1);
    process.stderr.write(`[wharf services] ${parts.join(", ")} (ready after ${total}s)\n`);
  }
  return stop;
}
