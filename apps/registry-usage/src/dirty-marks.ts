import { randomUUID } from "node:crypto";
import { isWharfError } from "@wharf/errors";
import { listAllObjects, readAll, type StorageDriver } from "@wharf/storage-driver";

export interface DirtyMarksOptions {
  readonly driver: StorageDriver;
  /** Key prefix of the app ("" or ending with "/"). */
  readonly prefix: string;
  readonly now?: () => number;
}

/** What a pass read: the repositories to rescan and the marks to delete once its snapshot is stored. */
export interface ReadMarks {
  readonly repositories: ReadonlySet<string>;
  readonly keys: readonly string[];
}

export type DirtyMarks = ReturnType<typeof createDirtyMarks>;

const markName = /^(\d+)-([0-9a-f]{8})-([A-Za-z0-9_-]+)$/;

/**
 * Repositories changed since the last pass, as registry notifications reported them, kept in the
 * store so that any replica can receive events and the scanning one sees them all. Every mark is
 * its own small object, created once (`ifNoneMatch`) and named
 * `events/<ms>-<random>-<base64url(repository)>`, so a pass learns the dirty set from a listing
 * alone and deletes exactly the marks it read: marks written during the pass stay for the next.
 * `events-seen.json` records when the first event ever arrived (the scan relies on events only
 * after a full reconciliation that started later).
 */
export function createDirtyMarks(options: DirtyMarksOptions) {
  const { driver } = options;
  const now = options.now ?? Date.now;
  const dir = `${options.prefix}events/`;
  const seenKey = `${options.prefix}events-seen.json`;
  let seenKnown = false;

  async function firstEventAt(): Promise<number | undefined> {
    try {
      const { body } = await driver.get(seenKey);
      const value = JSON.parse((await readAll(body)).toString("utf8")) as { first_event_at?: unknown };
      return typeof value.first_event_at === "number" ? value.first_event_at : undefined;
    } catch (error) {
      if (isWharfError(error, "NOT_FOUND")) return undefined;
      throw error;
    }
  }

  return {
    keys: { dir, seen: seenKey },

    /** Records that notifications arrive (once per store; cached per process). */
    async noteSeen(): Promise<void> {
      if (seenKnown) return;
      if ((await firstEventAt()) === undefined) {
        const body = JSON.stringify({ first_event_at: now() / 1000 });
        await driver
          .put(seenKey, body, { ifNoneMatch: "*", contentType: "application/json" })
          .catch((error: unknown) => {
            if (!isWharfError(error, "PRECONDITION_FAILED", "ALREADY_EXISTS")) throw error;
          });
      }
      seenKnown = true;
    },

    /** Unix seconds of the first event ever received, `undefined` when none was. */
    firstEventAt,

    /** Marks `repositories` dirty: one object each, never overwriting another. */
    async record(repositories: Iterable<string>, detail: unknown = {}): Promise<void> {
      const stamp = String(now()).padStart(14, "0");
      const batch = randomUUID().slice(0, 8);
      const body = JSON.stringify(detail);
      await Promise.all(
        [...new Set(repositories)].map((repo) =>
          driver.put(`${dir}${stamp}-${batch}-${Buffer.from(repo).toString("base64url")}`, body, {
            ifNoneMatch: "*",
            contentType: "application/json",
          }),
        ),
      );
    },

    /** Whether any mark waits (one listing request). */
    async pending(): Promise<boolean> {
      const page = await driver.list({ prefix: dir, limit: 1 });
      return page.objects.length > 0;
    },

    /** Every mark present now. */
    async read(): Promise<ReadMarks> {
      const repositories = new Set<string>();
      const keys: string[] = [];
      for await (const object of listAllObjects(driver, { prefix: dir })) {
        const match = markName.exec(object.key.slice(dir.length));
        keys.push(object.key);
        if (match) repositories.add(Buffer.from(match[3]!, "base64url").toString("utf8"));
      }
      return { repositories, keys };
    },

    /** Deletes the marks a pass has accounted for. */
    async clear(keys: readonly string[]): Promise<void> {
      for (let i = 0; i < keys.length; i += 16) {
        await Promise.all(keys.slice(i, i + 16).map((key) => driver.delete(key)));
      }
    },
  };
}
