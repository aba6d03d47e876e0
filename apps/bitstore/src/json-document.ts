import { isWharfError, WharfError } from "@wharf/errors";
import { readAll, type StorageDriver } from "@wharf/storage-driver";

export interface JsonDocument<T> {
  readonly value: T;
  readonly etag: string;
}

/** Reads a small JSON document kept in the store, or `undefined` when there is none. */
export async function readJson<T>(driver: StorageDriver, key: string): Promise<JsonDocument<T> | undefined> {
  try {
    const { info, body } = await driver.get(key);
    const text = (await readAll(body, { maxBytes: 16 * 1024 * 1024 })).toString("utf8");
    return { value: JSON.parse(text) as T, etag: info.etag };
  } catch (error) {
    if (isWharfError(error, "NOT_FOUND")) return undefined;
    throw error;
  }
}

/**
 * Read-modify-write of a JSON document guarded by the store's conditional writes: the write only
 * lands if nobody changed the document since it was read (`ifMatch`, or `ifNoneMatch: "*"` for a new
 * one), otherwise `update` runs again on the fresh value. This is what makes quota reservations and
 * upload sessions safe across parallel requests and several bitstore processes.
 * `update` returns the new value, or `undefined` to leave the document untouched.
 */
export async function updateJson<T, R = void>(
  driver: StorageDriver,
  key: string,
  update: (current: T | undefined) => Promise<{ value?: T; result: R }> | { value?: T; result: R },
  options: { attempts?: number } = {},
): Promise<R> {
  const attempts = options.attempts ?? 50;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const current = await readJson<T>(driver, key);
    const { value, result } = await update(current?.value);
    if (value === undefined) return result;
    try {
      await driver.put(key, JSON.stringify(value), {
        contentType: "application/json",
        ...(current ? { ifMatch: current.etag } : { ifNoneMatch: "*" as const }),
      });
      return result;
    } catch (error) {
      if (!isWharfError(error, "PRECONDITION_FAILED")) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(100, 5 * 2 ** attempt)));
    }
  }
  throw new WharfError("UNAVAILABLE", `too much contention on ${key}`);
}
