import { isWharfError, WharfError } from "@wharf/errors";
import type { RegistryContext } from "./context.ts";
import { packageKey } from "./layout.ts";
import { updateMeta } from "./meta.ts";
import { validatePackageName, validateVersionRef } from "./names.ts";

/** Points `latest` at an existing, non-yanked version; concurrent updates are never lost. */
export async function promote(
  context: RegistryContext,
  request: { readonly pkg: string; readonly version: string },
): Promise<void> {
  const pkg = validatePackageName(request.pkg);
  const version = validateVersionRef(request.version);
  await requireVersion(context, pkg, version);
  await updateMeta(context.storage, pkg, (meta) => {
    if (meta.yanked?.[version])
      throw new WharfError("PRECONDITION_FAILED", `Yanked: ${pkg}, Version ${version} (unyank it first)`, {
        details: { pkg, version },
      });
    return meta.latest === version ? meta : { ...meta, latest: version };
  });
}

/** `NOT_FOUND` ("Does Not Exist") unless the version's object exists; returns its description. */
export async function requireVersion(context: RegistryContext, pkg: string, version: string) {
  try {
    return await context.storage.head(packageKey(pkg, version));
  } catch (error) {
    if (isWharfError(error, "NOT_FOUND"))
      throw new WharfError("NOT_FOUND", `Does Not Exist: ${pkg}, Version ${version}`, {
        details: { pkg, version },
      });
    throw error;
  }
}
