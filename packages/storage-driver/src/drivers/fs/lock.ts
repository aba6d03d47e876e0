import { randomUUID } from "node:crypto";
import {
  closeSync,
  existsSync,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { link, lstat, readdir, readFile, rename, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { WharfError } from "@wharf/errors";

const host = hostname();
const inProcess = new Map<string, Promise<unknown>>();
/** Owner files of dead processes (or idle for this long on other hosts) are removed. */
const OWNER_IDLE_MS = 24 * 60 * 60 * 1000;
/** At most this many owner files are examined by one sweep. */
const SWEEP_LIMIT = 10_000;

export interface LockOptions {
  /** Give up with `UNAVAILABLE` after this long (default 30 s). */
  readonly timeoutMs?: number;
  /** A lock held by another host is stale after this long (default 60 s). */
  readonly staleMs?: number;
}

/**
 * This process's owner file in one locks folder: written once, then hard-linked as every lock the
 * process takes there. Taking and dropping a lock creates and removes a name, never an inode: on
 * ext4 each freed inode is skipped by later creates for a while, so one lock file per write made every
 * create that followed a bulk of writes walk thousands of them.
 */
interface Owner {
  readonly path: string;
  readonly content: string;
  readonly ino: number;
}
const owners = new Map<string, Owner>();

function ownersDir(lockPath: string): string {
  return join(dirname(lockPath), ".owners");
}

function ownerFor(lockPath: string): Owner {
  const dir = ownersDir(lockPath);
  const known = owners.get(dir);
  if (known) return known;
  const nonce = randomUUID();
  const content = `${process.pid}\n${host}\n${nonce}\n${Date.now()}`;
  const path = join(dir, nonce);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path, content, { flag: "wx" });
  const owner: Owner = { path, content, ino: lstatSync(path).ino };
  owners.set(dir, owner);
  void sweepOwners(dir, path).catch(() => {});
  return owner;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

interface Holder {
  readonly content: string;
  readonly ino: number;
  /** Changed by every link and unlink of the holder's inode, so never older than its lock. */
  readonly ctimeMs: number;
}

function isStale(holder: Holder, staleMs: number): boolean {
  const [pid, owner] = holder.content.split("\n");
  if (owner === host) return !isAlive(Number(pid));
  return Date.now() - holder.ctimeMs > staleMs;
}

/** The lock file's content and inode, read through one descriptor; undefined when there is none. */
function readHolder(path: string): Holder | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const stats = fstatSync(fd);
    const buffer = Buffer.alloc(Math.min(stats.size, 4096));
    const read = readSync(fd, buffer, 0, buffer.length, 0);
    return { content: buffer.toString("utf8", 0, read), ino: stats.ino, ctimeMs: stats.ctimeMs };
  } finally {
    closeSync(fd);
  }
}

/** Removes a lock judged stale, unless someone replaced it meanwhile (then puts theirs back). */
async function breakLock(path: string, stale: Holder): Promise<void> {
  const aside = `${path}.broken-${randomUUID()}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  if ((await lstat(aside).catch(() => undefined))?.ino !== stale.ino) await link(aside, path).catch(() => {});
  await unlink(aside).catch(() => {});
}

/** Removes owner files that hold no lock (one link) of dead processes here, or idle for a day elsewhere. */
async function sweepOwners(dir: string, ours: string): Promise<void> {
  const names = (await readdir(dir)).slice(0, SWEEP_LIMIT);
  for (const name of names) {
    const path = join(dir, name);
    if (path === ours) continue;
    const stats = await lstat(path).catch(() => undefined);
    if (!stats?.isFile() || stats.nlink !== 1) continue;
    const [pid, owner] = (await readFile(path, "utf8").catch(() => "")).split("\n");
    const dead = owner === host ? !isAlive(Number(pid)) : Date.now() - stats.ctimeMs > OWNER_IDLE_MS;
    if (dead) await unlink(path).catch(() => {});
  }
}

async function acquire(path: string, options: LockOptions): Promise<Owner> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let wait = 1;
  for (;;) {
    const owner = ownerFor(path);
    try {
      // Synchronous: a few microseconds on a local disk, against a thread-pool round trip.
      linkSync(owner.path, path);
      return owner;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && !existsSync(owner.path)) {
        // Our owner file was removed (swept while this process sat idle for a day): write it again.
        owners.delete(ownersDir(path));
        continue;
      }
      if (code !== "EEXIST") throw error;
    }
    const holder = readHolder(path);
    // An empty file is a lock being written right now (by an older version); never judge it stale.
    if (holder?.content && isStale(holder, options.staleMs ?? 60_000)) {
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
 * Removes our lock. Held for less than half of `staleMs`, nobody can have judged it stale (this host
 * sees our pid alive; other hosts wait `staleMs` after the inode's ctime, which the link set), so it is
 * still ours and no check is needed.
 */
function release(path: string, owner: Owner, heldMs: number, staleMs: number): void {
  try {
    if (heldMs < staleMs / 2 || lstatSync(path).ino === owner.ino) unlinkSync(path);
  } catch {}
}

/**
 * Runs `fn` while holding an exclusive lock on `path`, across processes: `path` is created as a hard
 * link to this process's owner file (pid, host, nonce, in `.owners/` beside it), which fails while
 * another holds it. A lock whose process died (same host) or whose inode is unchanged for `staleMs`
 * (other hosts) is broken. Within one process, callers queue without polling.
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
      const owner = await acquire(path, options);
      const acquiredAt = performance.now();
      try {
        return await fn();
      } finally {
        release(path, owner, performance.now() - acquiredAt, options.staleMs ?? 60_000);
      }
    });
  const tail = run.catch(() => {});
  inProcess.set(path, tail);
  void tail.then(() => {
    if (inProcess.get(path) === tail) inProcess.delete(path);
  });
  return run;
}
