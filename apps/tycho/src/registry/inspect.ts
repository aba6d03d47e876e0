import { WharfError } from "@wharf/errors";
import type { ObjectInfo } from "@wharf/storage-driver";
import type { RegistryContext } from "./context.ts";
import { createDigests } from "./digests.ts";
import { actualDigest, integrityPlan } from "./integrity.ts";
import { metadataKeys, packageKey } from "./layout.ts";
import { pages } from "./listing.ts";
import { findMeta, readMeta } from "./meta.ts";
import { validatePackageName, validateVersionRef } from "./names.ts";
import { mapLimit } from "./pool.ts";
import { requireVersion } from "./promote.ts";
import { listVersions } from "./versions.ts";

export interface PackageSummary {
  readonly name: string;
  /** null when nothing was promoted or the folder has no tycho.json. */
  readonly latest: string | null;
  readonly initialized: boolean;
}

/** Every top-level folder of the bucket, as tychoreg lists it, with its latest version. */
export async function listPackages(context: RegistryContext): Promise<PackageSummary[]> {
  const names: string[] = [];
  for await (const page of pages(context.storage, { delimiter: "/" }))
    for (const prefix of page.prefixes) names.push(prefix.slice(0, -1));
  return mapLimit(names, 16, async (name) => {
    const stored = await findMeta(context.storage, name);
    return { name, latest: stored?.meta.latest ?? null, initialized: stored !== undefined };
  });
}

export interface VersionEntry {
  readonly version: string;
  readonly yanked: boolean;
  readonly latest: boolean;
}

/** Versions in the documented order; `NOT_FOUND` for a package with neither tycho.json nor versions. */
export async function packageVersions(context: RegistryContext, name: string): Promise<VersionEntry[]> {
  const pkg = validatePackageName(name);
  const [stored, versions] = await Promise.all([
    findMeta(context.storage, pkg),
    listVersions(context.storage, pkg),
  ]);
  if (!stored && versions.length === 0)
    throw new WharfError("NOT_FOUND", `Unknown Package: ${pkg}`, { details: { pkg } });
  return versions.map((version) => ({
    version,
    yanked: stored?.meta.yanked?.[version] !== undefined,
    latest: stored?.meta.latest === version,
  }));
}

export interface VersionInfo {
  readonly pkg: string;
  readonly version: string;
  readonly size: number;
  readonly etag: string;
  readonly sha256: string | null;
  readonly pushedAt: string | null;
  readonly pushedBy: string | null;
  readonly lastModified: string;
  readonly latest: boolean;
  readonly yanked: { readonly at: string; readonly by: string; readonly reason?: string } | null;
}

export interface PackageInfo {
  readonly pkg: string;
  readonly localname: string;
  readonly latest: string | null;
  readonly versions: readonly VersionEntry[];
}

export async function packageInfo(context: RegistryContext, name: string): Promise<PackageInfo> {
  const pkg = validatePackageName(name);
  const { meta } = await readMeta(context.storage, pkg);
  return {
    pkg,
    localname: meta.localname,
    latest: meta.latest,
    versions: await packageVersions(context, pkg),
  };
}

export async function versionInfo(context: RegistryContext, name: string, ref: string): Promise<VersionInfo> {
  const pkg = validatePackageName(name);
  const version = validateVersionRef(ref);
  const [info, stored] = await Promise.all([
    requireVersion(context, pkg, version),
    findMeta(context.storage, pkg),
  ]);
  return describe(pkg, version, info, stored?.meta);
}

function describe(
  pkg: string,
  version: string,
  info: ObjectInfo,
  meta: Awaited<ReturnType<typeof readMeta>>["meta"] | undefined,
): VersionInfo {
  const pushedBy = info.metadata[metadataKeys.pushedBy];
  return {
    pkg,
    version,
    size: info.size,
    etag: info.etag,
    sha256: info.metadata[metadataKeys.sha256] ?? info.sha256 ?? null,
    pushedAt: info.metadata[metadataKeys.pushedAt] ?? null,
    pushedBy: pushedBy === undefined ? null : safeDecode(pushedBy),
    lastModified: info.lastModified.toISOString(),
    latest: meta?.latest === version,
    yanked: meta?.yanked?.[version] ?? null,
  };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export type VerifyStatus = "ok" | "mismatch" | "unverifiable";

export interface VerifyEntry {
  readonly pkg: string;
  readonly version: string;
  readonly status: VerifyStatus;
  /** The recorded sha256, or (tychoreg's pushes on S3) the ETag recomputed from the bytes. */
  readonly by: "sha256" | "etag" | null;
  readonly expected: string | null;
  readonly actual: string;
}

/** Re-reads stored versions and checks each as pull does (recorded sha256, else the S3 ETag). */
export async function verifyVersions(
  context: RegistryContext,
  name: string,
  refs: readonly string[],
): Promise<VerifyEntry[]> {
  const pkg = validatePackageName(name);
  const versions =
    refs.length > 0
      ? refs.map(validateVersionRef)
      : (await packageVersions(context, pkg)).map((v) => v.version);
  return mapLimit(versions, context.transfer.concurrency, async (version) => {
    const info = await requireVersion(context, pkg, version);
    const plan = integrityPlan(context.storage, info);
    const { body } = await context.storage.get(packageKey(pkg, version), { ifMatch: info.etag });
    const digests = createDigests(plan.by === "etag" ? plan.layout : undefined);
    for await (const chunk of body as AsyncIterable<Buffer>) digests.update(chunk);
    const sha256 = digests.sha256();
    const etag = digests.etag();
    if (plan.by === null)
      return { pkg, version, status: "unverifiable", by: null, expected: null, actual: sha256 };
    const actual = actualDigest(plan, { sha256, ...(etag ? { etag } : {}) });
    const status: VerifyStatus = plan.expected === actual ? "ok" : "mismatch";
    return { pkg, version, status, by: plan.by, expected: plan.expected, actual };
  });
}
