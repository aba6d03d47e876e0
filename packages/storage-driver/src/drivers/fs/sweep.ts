import { lstat, opendir, unlink } from "node:fs/promises";
import { join } from "node:path";

export interface SweepOptions {
  /** Files not modified for this long are removed. */
  readonly olderThanMs: number;
  /** Entries inspected at most, so one sweep stays bounded on a huge folder (default 10 000). */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

/**
 * Removes the regular files directly in `dir` whose mtime is older than `olderThanMs`: staging
 * files left by a crashed writer. A live write keeps its file's mtime fresh, and one that loses its
 * file anyway fails cleanly (its rename or link finds nothing). Never throws; returns how many
 * files it removed.
 */
export async function sweepStaleFiles(dir: string, options: SweepOptions): Promise<number> {
  const cutoff = (options.now ?? Date.now)() - options.olderThanMs;
  let budget = options.maxEntries ?? 10_000;
  let removed = 0;
  try {
    const handle = await opendir(dir);
    for await (const entry of handle) {
      if (--budget < 0) break;
      if (!entry.isFile()) continue;
      const path = join(dir, entry.name);
      try {
        if ((await lstat(path)).mtimeMs < cutoff) {
          await unlink(path);
          removed++;
        }
      } catch {
        // Committed or removed meanwhile.
      }
    }
  } catch {
    // No staging folder yet, or unreadable: nothing to sweep.
  }
  return removed;
}
