import type { RegistryContext } from "./context.ts";
import { packageKey } from "./layout.ts";
import { type PackageMeta, updateMeta } from "./meta.ts";
import { validatePackageName, validateVersionRef } from "./names.ts";
import { requireVersion } from "./promote.ts";
import { highestRemaining, listVersions } from "./versions.ts";

export interface YankRequest {
  readonly pkg: string;
  readonly version: string;
  readonly reason?: string;
  /** Undo an earlier yank. */
  readonly undo?: boolean;
}

/**
 * Marks a version yanked in tycho.json: still pullable by its exact name, never chosen by a range,
 * never promoted. Yanking the latest version moves `latest` to the highest remaining one.
 */
export async function yank(context: RegistryContext, request: YankRequest): Promise<PackageMeta> {
  const pkg = validatePackageName(request.pkg);
  const version = validateVersionRef(request.version);
  await requireVersion(context, pkg, version);
  const versions = await listVersions(context.storage, pkg);
  return updateMeta(context.storage, pkg, (meta) => {
    const { [version]: current, ...others } = meta.yanked ?? {};
    if (request.undo) return current ? { ...meta, yanked: others } : meta;
    if (current) return meta;
    const record = {
      at: context.now().toISOString(),
      by: context.user,
      ...(request.reason ? { reason: request.reason } : {}),
    };
    const yanked = { ...others, [version]: record };
    const latest =
      meta.latest === version ? highestRemaining(versions, { ...meta, yanked }, version) : meta.latest;
    return { ...meta, latest, yanked };
  });
}

/**
 * Deletes a version. tycho.json is updated first (latest moved to the highest remaining version,
 * any yank record dropped) so `latest` never names a missing object, then the object goes.
 */
export async function deleteVersion(
  context: RegistryContext,
  request: { readonly pkg: string; readonly version: string },
): Promise<PackageMeta> {
  const pkg = validatePackageName(request.pkg);
  const version = validateVersionRef(request.version);
  await requireVersion(context, pkg, version);
  const versions = await listVersions(context.storage, pkg);
  const meta = await updateMeta(context.storage, pkg, (current) => {
    if (current.latest !== version && !current.yanked?.[version]) return current;
    const { [version]: _dropped, ...yanked } = current.yanked ?? {};
    const latest = current.latest === version ? highestRemaining(versions, current, version) : current.latest;
    return { ...current, latest, ...(current.yanked ? { yanked } : {}) };
  });
  await context.storage.delete(packageKey(pkg, version));
  return meta;
}
