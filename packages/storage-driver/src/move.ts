import { WharfError } from "@wharf/errors";
import { withCheckThenWrite } from "./check-then-write.ts";
import { listAllObjects } from "./list-all.ts";
import type { ObjectInfo, RenameOptions, StorageDriver } from "./types.ts";

/**
 * Throws `INVALID_ARGUMENT` unless both are folder prefixes (non-empty, ending with `/`) and neither
 * contains the other. Drivers call it in `renamePrefix`.
 */
export function checkRenamePrefixes(sourcePrefix: string, destinationPrefix: string): void {
  for (const prefix of [sourcePrefix, destinationPrefix]) {
    if (prefix === "" || !prefix.endsWith("/")) {
      throw new WharfError("INVALID_ARGUMENT", `a folder prefix ends with /, got ${JSON.stringify(prefix)}`);
    }
  }
  if (sourcePrefix.startsWith(destinationPrefix) || destinationPrefix.startsWith(sourcePrefix)) {
    throw new WharfError("INVALID_ARGUMENT", `cannot move ${sourcePrefix} into or onto ${destinationPrefix}`);
  }
}

/**
 * Moves one object: atomically with `rename` where the driver can (`capabilities.rename`), else as
 * a copy followed by a delete of the source. With `ifNoneMatch`, the copy is conditional where the
 * store has `conditionalWrite`; elsewhere the destination is checked with a HEAD first, which a
 * writer racing in between defeats (such stores offer nothing better).
 *
 * @example
 * await moveObject(storage, "inbox/report.pdf", "archive/report.pdf", { ifNoneMatch: "*" });
 */
export async function moveObject(
  driver: StorageDriver,
  sourceKey: string,
  destinationKey: string,
  options: RenameOptions = {},
): Promise<ObjectInfo> {
  if (driver.capabilities.rename) return driver.rename(sourceKey, destinationKey, options);
  if (sourceKey === destinationKey) return driver.head(sourceKey);
  // Without conditional writes, ifNoneMatch is a HEAD check before the copy (see withCheckThenWrite).
  const info = await withCheckThenWrite(driver).copy(
    sourceKey,
    destinationKey,
    options.ifNoneMatch ? { ifNoneMatch: "*" } : {},
  );
  await driver.delete(sourceKey);
  return info;
}

/**
 * Moves every object below a folder prefix: one atomic `renamePrefix` where the driver can, else
 * object by object (copy, then delete; `concurrency` at a time, default 8), which readers may see
 * half done. Returns how many objects moved (`undefined` when the driver did it in one step).
 * `NOT_FOUND` when nothing is below the source; `PRECONDITION_FAILED` when the destination holds
 * anything.
 */
export async function movePrefix(
  driver: StorageDriver,
  sourcePrefix: string,
  destinationPrefix: string,
  options: { concurrency?: number } = {},
): Promise<number | undefined> {
  checkRenamePrefixes(sourcePrefix, destinationPrefix);
  if (driver.capabilities.rename) {
    await driver.renamePrefix(sourcePrefix, destinationPrefix);
    return undefined;
  }
  const taken = await driver.list({ prefix: destinationPrefix, limit: 1 });
  if (taken.objects.length > 0 || taken.prefixes.length > 0) {
    throw new WharfError("PRECONDITION_FAILED", `${destinationPrefix} is not empty`);
  }
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const running = new Set<Promise<void>>();
  let moved = 0;
  let failure: { error: unknown } | undefined;
  for await (const object of listAllObjects(driver, { prefix: sourcePrefix })) {
    const target = destinationPrefix + object.key.slice(sourcePrefix.length);
    const task: Promise<void> = moveObject(driver, object.key, target, { ifNoneMatch: "*" })
      .then(
        () => {
          moved++;
        },
        (error: unknown) => {
          failure ??= { error };
        },
      )
      .finally(() => running.delete(task));
    running.add(task);
    if (running.size >= concurrency) await Promise.race(running);
    if (failure) break;
  }
  await Promise.all(running);
  if (failure) throw failure.error;
  if (moved === 0) throw new WharfError("NOT_FOUND", `nothing below ${sourcePrefix}`);
  return moved;
}
