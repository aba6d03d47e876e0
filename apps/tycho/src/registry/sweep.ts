import { abortStaleUploads, type PendingMultipart } from "@wharf/storage-driver";
import { readClaim } from "./claim.ts";
import type { RegistryContext } from "./context.ts";
import { pages } from "./listing.ts";
import { unclaim } from "./unclaim.ts";

export interface StaleClaim {
  readonly pkg: string;
  readonly version: string;
  readonly by: string;
  readonly at: string;
}

export interface SweepResult {
  /** Claims older than `claimStaleAfterMs`: pushes that were killed (or hang). */
  readonly claims: readonly StaleClaim[];
  /** Unfinished multipart uploads started more than `olderThanMs` ago. */
  readonly uploads: readonly { readonly key: string; readonly initiated: string }[];
  /** Whether they were removed (`confirm`), or only listed. */
  readonly removed: boolean;
}

const claimPattern = /^([^/]+)\/tycho_(.+)\.pkg\.claim$/;

/**
 * What killed pushes left across the registry: stale claims and old unfinished uploads. Lists them;
 * with `confirm` clears each claim as `unclaim` does and aborts the uploads
 * (`abortStaleUploads`).
 */
export async function sweep(
  context: RegistryContext,
  request: { readonly olderThanMs: number; readonly confirm: boolean },
): Promise<SweepResult> {
  const now = context.now().getTime();
  const claims: StaleClaim[] = [];
  for await (const page of pages(context.storage, {}))
    for (const object of page.objects) {
      const match = claimPattern.exec(object.key);
      if (!match) continue;
      const held = await readClaim(context.storage, object.key);
      const age = held ? now - Date.parse(held.body.at) : Number.NaN;
      if (!held || age <= context.claimStaleAfterMs) continue;
      claims.push({
        pkg: match[1] as string,
        version: match[2] as string,
        by: held.body.by,
        at: held.body.at,
      });
    }
  const uploads: PendingMultipart[] = [];
  if (context.storage.capabilities.multipart)
    for await (const upload of context.storage.listMultipartUploads())
      if (upload.initiated.getTime() <= now - request.olderThanMs) uploads.push(upload);
  const listed = uploads.map((upload) => ({ key: upload.key, initiated: upload.initiated.toISOString() }));
  if (!request.confirm) return { claims, uploads: listed, removed: false };
  for (const claim of claims) await unclaim(context, { ...claim, confirm: true });
  await abortStaleUploads(context.storage, { olderThanMs: request.olderThanMs, now: () => now });
  return { claims, uploads: listed, removed: true };
}
