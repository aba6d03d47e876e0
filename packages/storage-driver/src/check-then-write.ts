import { isWharfError, WharfError } from "@wharf/errors";
import type { ObjectInfo, StorageDriver } from "./types.ts";

interface Conditions {
  readonly ifNoneMatch?: "*";
  readonly ifMatch?: string;
}

/**
 * For apps that must still run on a store without conditional writes (Swift's s3api): `put`,
 * `copy` and `createMultipart` accept `ifNoneMatch`/`ifMatch` and check them with a HEAD before an
 * unconditional write, as tools without conditional writes do (tychoreg). Right for one writer at a
 * time; two concurrent writers can both pass the check, and the last write wins. The driver still
 * declares `conditionalWrite: false`, so code that needs the guarantee can tell; an app that uses
 * this says so at start. A driver with conditional writes is returned as it is.
 *
 * @example
 * if (!storage.capabilities.conditionalWrite) warn("concurrent pushes are not guarded");
 * const registry = withCheckThenWrite(storage);
 */
export function withCheckThenWrite(driver: StorageDriver): StorageDriver {
  if (driver.capabilities.conditionalWrite) return driver;

  async function check(key: string, conditions: Conditions): Promise<void> {
    if (conditions.ifNoneMatch === undefined && conditions.ifMatch === undefined) return;
    let current: ObjectInfo | undefined;
    try {
      current = await driver.head(key);
    } catch (error) {
      if (!isWharfError(error, "NOT_FOUND")) throw error;
    }
    if (conditions.ifNoneMatch === "*" && current)
      throw new WharfError("PRECONDITION_FAILED", `an object exists at ${key}`, { details: { key } });
    if (conditions.ifMatch !== undefined && current?.etag !== conditions.ifMatch)
      throw new WharfError("PRECONDITION_FAILED", `the etag does not match at ${key}`, { details: { key } });
  }

  const without = <T extends Conditions>({ ifNoneMatch: _n, ifMatch: _m, ...rest }: T) => rest;
  return {
    ...driver,
    async put(key, body, options = {}) {
      await check(key, options);
      return driver.put(key, body, without(options));
    },
    async copy(sourceKey, destinationKey, options = {}) {
      await check(destinationKey, options);
      return driver.copy(sourceKey, destinationKey, without(options));
    },
    async createMultipart(key, options = {}) {
      await check(key, options);
      return driver.createMultipart(key, without(options));
    },
  };
}
