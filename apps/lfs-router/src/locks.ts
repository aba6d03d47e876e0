import { createHash, randomBytes } from "node:crypto";
import { isWharfError, WharfError } from "@wharf/errors";
import { readAll, type StorageDriver } from "@wharf/storage-driver";
import { mapLimit } from "./batch.ts";
import type { Layout } from "./layout.ts";

/** A lock as the LFS locking API shows it. */
export interface Lock {
  readonly id: string;
  readonly path: string;
  readonly locked_at: string;
  readonly owner: { readonly name: string };
}

/** What the store keeps per locked path: the lock, or a tombstone once released. */
interface LockRecord {
  readonly lock?: Lock;
  readonly ref?: string;
}

export interface LockPage {
  readonly locks: Lock[];
  readonly nextCursor?: string;
}

export interface ListLocksOptions {
  readonly path?: string;
  readonly id?: string;
  readonly refspec?: string;
  readonly cursor?: string;
  readonly limit: number;
}

export interface LockStore {
  /** `ALREADY_EXISTS` with `details.lock` when the path is locked already. */
  create(repo: string, path: string, owner: string, ref?: string): Promise<Lock>;
  list(repo: string, options: ListLocksOptions): Promise<LockPage>;
  /** `NOT_FOUND`; `PERMISSION_DENIED` when someone else's lock is released without `force`. */
  unlock(repo: string, id: string, owner: string, force: boolean): Promise<Lock>;
}

const hashLength = 40;

/**
 * Locks kept in the store itself, one object per locked path, guarded by conditional writes
 * (`ifNoneMatch: "*"` to create, `ifMatch` to release or retake), so router replicas share them.
 * Released locks leave a tombstone that the next lock of that path replaces with `ifMatch`.
 */
export function createLockStore(
  driver: StorageDriver,
  layout: Layout,
  now: () => Date = () => new Date(),
): LockStore {
  const pathHash = (path: string) => createHash("sha256").update(path).digest("hex").slice(0, hashLength);

  async function read(key: string): Promise<{ record: LockRecord; etag: string } | undefined> {
    try {
      const { info, body } = await driver.get(key);
      const record = JSON.parse(
        (await readAll(body, { maxBytes: 64 * 1024 })).toString("utf8"),
      ) as LockRecord;
      return { record, etag: info.etag };
    } catch (error) {
      if (isWharfError(error, "NOT_FOUND")) return undefined;
      throw error;
    }
  }
  const body = (record: LockRecord) => JSON.stringify(record);
  const json = { contentType: "application/json" };

  return {
    async create(repo, path, owner, ref) {
      const hash = pathHash(path);
      const key = layout.lockKey(repo, hash);
      const lock: Lock = {
        id: `${hash}${randomBytes(6).toString("hex")}`,
        path,
        locked_at: now().toISOString(),
        owner: { name: owner },
      };
      const record = body({ lock, ...(ref ? { ref } : {}) });
      for (let attempt = 0; attempt < 5; attempt++) {
        const current = await read(key);
        try {
          if (!current) await driver.put(key, record, { ...json, ifNoneMatch: "*" });
          else if (current.record.lock)
            throw new WharfError("ALREADY_EXISTS", `${path} is already locked`, {
              details: { lock: current.record.lock },
            });
          else await driver.put(key, record, { ...json, ifMatch: current.etag });
          return lock;
        } catch (error) {
          if (!isWharfError(error, "PRECONDITION_FAILED")) throw error;
        }
      }
      throw new WharfError("UNAVAILABLE", `${path} is contended, try again`);
    },

    async list(repo, options) {
      const matches = (record: LockRecord): record is { lock: Lock; ref?: string } =>
        record.lock !== undefined &&
        (options.path === undefined || record.lock.path === options.path) &&
        (options.id === undefined || record.lock.id === options.id) &&
        (options.refspec === undefined || record.ref === undefined || record.ref === options.refspec);
      const direct = options.path ?? (options.id && /^[0-9a-f]+$/.test(options.id) ? options.id : undefined);
      if (direct !== undefined) {
        const hash = options.path !== undefined ? pathHash(options.path) : direct.slice(0, hashLength);
        const found = await read(layout.lockKey(repo, hash));
        return { locks: found && matches(found.record) ? [found.record.lock] : [] };
      }
      const prefix = layout.lockPrefix(repo);
      const locks: Lock[] = [];
      let startAfter = options.cursor
        ? layout.lockKey(repo, options.cursor.replace(/[^0-9a-f]/g, ""))
        : undefined;
      for (;;) {
        const page = await driver.list({
          prefix,
          delimiter: "/",
          limit: options.limit,
          ...(startAfter ? { startAfter } : {}),
        });
        const records = await mapLimit(page.objects, 16, (o) => read(o.key));
        for (const [index, found] of records.entries()) {
          if (found && matches(found.record)) locks.push(found.record.lock);
          if (locks.length === options.limit) {
            const last = page.objects[index]?.key ?? "";
            const more = index < page.objects.length - 1 || page.cursor !== undefined;
            const cursor = last.slice(prefix.length, -".json".length);
            return more ? { locks, nextCursor: cursor } : { locks };
          }
        }
        if (page.cursor === undefined || page.objects.length === 0) return { locks };
        startAfter = page.objects[page.objects.length - 1]?.key;
      }
    },

    async unlock(repo, id, owner, force) {
      if (!/^[0-9a-f]{41,128}$/.test(id)) throw new WharfError("NOT_FOUND", `no lock ${id}`);
      const key = layout.lockKey(repo, id.slice(0, hashLength));
      for (let attempt = 0; attempt < 5; attempt++) {
        const current = await read(key);
        const lock = current?.record.lock;
        if (!current || !lock || lock.id !== id) throw new WharfError("NOT_FOUND", `no lock ${id}`);
        if (lock.owner.name !== owner && !force)
          throw new WharfError(
            "PERMISSION_DENIED",
            `${lock.path} is locked by ${lock.owner.name}; only an admin can force it`,
          );
        try {
          await driver.put(key, body({}), { ...json, ifMatch: current.etag });
          return lock;
        } catch (error) {
          if (!isWharfError(error, "PRECONDITION_FAILED")) throw error;
        }
      }
      throw new WharfError("UNAVAILABLE", `lock ${id} is contended, try again`);
    },
  };
}
