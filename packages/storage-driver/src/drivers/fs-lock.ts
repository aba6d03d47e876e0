import { randomUUID } from "node:crypto";
import { closeSync, openSync, unlinkSync, writeSync } from "node:fs";
import { link, readFile, rename, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import { WharfError } from "@wharf/errors";

const host = hostname();
const inProcess = new Map<string, Promise<unknown>>();

export interface LockOptions {
  /** Give up with `UNAVAILABLE` after this long (default 30 s). */
  readonly timeoutMs?: number;
  /** A lock held by another host is stale after this long (default 60 s). */
  readonly staleMs?: number;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function isStale(content: string, staleMs: number): boolean {
  const [pid, owner, , time] = content.split("\n");
  if (owner === host) return !isAlive(Number(pid));
  return Date.now() - Number(time) > staleMs;
}

async function readLock(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Removes a lock judged stale, unless someone replaced it meanwhile (then puts theirs back). */
async function breakLock(path: string, staleContent: string): Promise<void> {
  const aside = `${path}.broken-${randomUUID()}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  if ((await readLock(aside)) !== staleContent) await link(aside, path).catch(() => {});
  await unlink(aside).catch(() => {});
}

async function acquire(path: string, options: LockOptions): Promise<string> {
  const content = `${process.pid}\n${host}\n${randomUUID()}\n${Date.now()}`;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let wait = 1;
  for (;;) {
    try {
      // Synchronous: a few microseconds on a local disk, against three thread-pool round trips.
      const fd = openSync(path, "wx");
      try {
        writeSync(fd, content);
      } finally {
        closeSync(fd);
      }
      return content;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = await readLock(path);
    // An empty file is a lock being written right now; never judge it stale.
    if (holder && isStale(holder, options.staleMs ?? 60_000)) {
      await breakLock(path, holder);
      continue;
    }
    if (Date.now() > deadline) {
      throw new WharfError("UNAVAILABLE", "timed out waiting for a storage lock", { details: { path } });
    }
    await delay(wait + Math.random() * wait);
    wait = Math.min(wait * 2, 25);
  }
}

/**
 * Removes our lock file. Held for less than half of `staleMs`, nobody can have judged it stale (this
 * host sees our pid alive; other hosts wait `staleMs`), so it is still ours and no read is needed.
 */
async function release(path: string, content: string, heldMs: number, staleMs: number): Promise<void> {
  if (heldMs < staleMs / 2 || (await readLock(path)) === content) {
    try {
      unlinkSync(path);
    } catch {}
  }
}

/**
 * Runs `fn` while holding an exclusive lock on `path`, across processes: an `O_EXCL` lock file
 * holding pid, host, nonce and time. A lock whose process died (same host) or that is older than
 * `staleMs` (other hosts) is broken. Within one process, callers queue without polling.
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const previous = inProcess.get(path) ?? Promise.resolve();
  const run = previous
    .catch(() => {})
    .then(async () => {
      const content = await acquire(path, options);
      const acquiredAt = performance.now();
      try {
        return await fn();
      } finally {
        await release(path, content, performance.now() - acquiredAt, options.staleMs ?? 60_000);
      }
    });
  const tail = run.catch(() => {});
  inProcess.set(path, tail);
  void tail.then(() => {
    if (inProcess.get(path) === tail) inProcess.delete(path);
  });
  return run;
}
