import { randomBytes } from "node:crypto";
import { isWharfError } from "@wharf/errors";
import { readAll, type StorageDriver } from "@wharf/storage-driver";

export interface LocalCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * Local-disk mode signs its forms and checks them itself, so no one else needs the key: without
 * `STORAGE_ACCESS_KEY_ID`/`STORAGE_SECRET_ACCESS_KEY`, a random pair is kept in the store at
 * `<statePrefix>local-credentials.json`, created once (`If-None-Match: *`) and read by every
 * process on that store, so replicas accept each other's forms and a restart keeps them valid.
 */
export async function localCredentials(
  driver: StorageDriver,
  statePrefix: string,
): Promise<LocalCredentials> {
  const key = `${statePrefix}local-credentials.json`;
  const stored = await read(driver, key);
  if (stored) return stored;
  const fresh = {
    accessKeyId: `bitstore-${randomBytes(8).toString("hex")}`,
    secretAccessKey: randomBytes(32).toString("base64url"),
  };
  try {
    await driver.put(key, JSON.stringify(fresh), { ifNoneMatch: "*", contentType: "application/json" });
    return fresh;
  } catch (error) {
    if (!isWharfError(error, "PRECONDITION_FAILED") && !isWharfError(error, "ALREADY_EXISTS")) throw error;
    const winner = await read(driver, key);
    if (!winner) throw error;
    return winner;
  }
}

async function read(driver: StorageDriver, key: string): Promise<LocalCredentials | undefined> {
  try {
    const parsed = JSON.parse(
      (await readAll((await driver.get(key)).body)).toString("utf8"),
    ) as LocalCredentials;
    if (typeof parsed.accessKeyId === "string" && typeof parsed.secretAccessKey === "string") return parsed;
    throw new Error(`${key} is not a credentials record`);
  } catch (error) {
    if (isWharfError(error, "NOT_FOUND")) return undefined;
    throw error;
  }
}
