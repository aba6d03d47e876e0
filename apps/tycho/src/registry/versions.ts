import { WharfError } from "@wharf/errors";
import type { StorageDriver } from "@wharf/storage-driver";
import semver from "semver";
import { versionOfKey, versionPrefix } from "./layout.ts";
import { pages } from "./listing.ts";
import type { PackageMeta } from "./meta.ts";

const shortVersion = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/**
 * The semver reading of a version string, or null. `1.0` reads as `1.0.0` and `v2` as `2.0.0`, so
 * the short versions tychoreg users push still order numerically (1.9 < 1.10).
 */
export function semverOf(version: string): semver.SemVer | null {
  const strict = semver.parse(version, { loose: true });
  if (strict) return strict;
  const match = shortVersion.exec(version);
  if (!match) return null;
  const [, major, minor = "0", patch = "0", pre = "", build = ""] = match;
  return semver.parse(`${major}.${minor}.${patch}${pre}${build}`);
}

/**
 * The documented order: versions that read as semver ascend by semver precedence (ties by the
 * strings' byte order); versions that do not come first, in byte order.
 */
export function compareVersions(a: string, b: string): number {
  const sa = semverOf(a);
  const sb = semverOf(b);
  if (sa && sb) return semver.compare(sa, sb) || byteOrder(a, b);
  if (sa) return 1;
  if (sb) return -1;
  return byteOrder(a, b);
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export function sortVersions(versions: Iterable<string>): string[] {
  return [...versions].sort(compareVersions);
}

/** Every version of a package (all pages of the listing), in the documented order. */
export async function listVersions(storage: StorageDriver, pkg: string): Promise<string[]> {
  const versions: string[] = [];
  for await (const page of pages(storage, { prefix: versionPrefix(pkg) })) {
    for (const object of page.objects) {
      const version = versionOfKey(pkg, object.key);
      if (version !== undefined) versions.push(version);
    }
  }
  return sortVersions(versions);
}

/**
 * What `pull --version` names: `latest` → tycho.json's latest; an existing version → itself; a
 * semver range → the highest non-yanked version satisfying it (deterministic, see compareVersions).
 */
export function resolveVersion(
  pkg: string,
  requested: string,
  meta: PackageMeta,
  versions: readonly string[],
): string | null {
  if (requested === "latest") return meta.latest;
  if (versions.includes(requested)) return requested;
  const range = semver.validRange(requested, { loose: true });
  if (range === null)
    throw new WharfError("NOT_FOUND", `Does Not Exist: ${pkg}, Version ${requested}`, {
      details: { pkg, version: requested },
    });
  const candidates = sortVersions(versions).filter((version) => {
    const parsed = semverOf(version);
    return parsed !== null && !meta.yanked?.[version] && semver.satisfies(parsed, range);
  });
  const chosen = candidates.at(-1);
  if (chosen === undefined)
    throw new WharfError("NOT_FOUND", `No Version Matches: ${pkg} ${requested}`, {
      details: { pkg, range: requested },
    });
  return chosen;
}

/** The highest non-yanked version other than `except`, for moving `latest` off a removed one. */
export function highestRemaining(
  versions: readonly string[],
  meta: PackageMeta,
  except: string,
): string | null {
  const kept = sortVersions(versions).filter((version) => version !== except && !meta.yanked?.[version]);
  return kept.at(-1) ?? null;
}
