import { lstatSync } from "node:fs";
import { link, lstat, mkdir, rename, rm, stat, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { WharfError } from "@wharf/errors";
import { validateKey, validatePrefix } from "../../keys.ts";
import { checkRenamePrefixes } from "../../move.ts";
import type { RenameOptions, StorageDriver } from "../../types.ts";
import type { FsContext } from "./context.ts";
import type { Describer } from "./describe.ts";
import { conflict, errno, preconditionFailed, translateFsError } from "./errors.ts";
import { bareInfo, type Sidecars, toInfo } from "./sidecar.ts";
import type { Writes } from "./write.ts";

/** `copy` (a new staged file committed like a put), `rename` and `renamePrefix` (renames under the keys' locks). */
export function createMoves(
  fs: FsContext,
  sidecars: Sidecars,
  describer: Describer,
  writes: Writes,
): Pick<StorageDriver, "copy" | "rename" | "renamePrefix"> {
  const { assertInside, dataPath, lock, makeParents, metaPath, metaRoot, prune, ready, root, syncDir } = fs;
  const { dropSidecar, readSidecar, writeSidecar } = sidecars;
  const { current, openConsistent } = describer;
  const { commit, dataNamesInode, etagOf, stage } = writes;

  /**
   * Moves data file and sidecar under both keys' locks (taken in key order, so never a deadlock).
   * The inode moves with the data, so the source's sidecar describes it at the destination; it goes
   * into place before or after the move by the same rule as in `commit`.
   */
  async function renameObject(source: string, destination: string, conditions: RenameOptions) {
    const [first, second] = [source, destination].sort();
    const from = dataPath(source);
    const to = dataPath(destination);
    return lock(first!, () =>
      lock(second!, async () => {
        const moving = await current(source, from);
        if (!moving)
          throw new WharfError("NOT_FOUND", `no object at ${source}`, { details: { key: source } });
        const read = moving.sidecar ? await readSidecar(source) : "none";
        if (read === undefined || (moving.sidecar && read === "none"))
          throw new WharfError("INTERNAL", `the sidecar of ${source} vanished under its lock`);
        const sidecar = read === "none" ? undefined : read;
        const changed = new Set<string>();
        let placed = false;
        try {
          for (let attempt = 0; ; attempt++) {
            for (const dir of await makeParents(destination, to)) changed.add(dir);
            const existing = await current(destination, to);
            if (conditions.ifNoneMatch === "*" && existing)
              throw preconditionFailed(destination, "an object exists");
            if (sidecar && !placed && !existing?.sidecar) {
              await writeSidecar(destination, sidecar);
              placed = true;
            }
            try {
              if (conditions.ifNoneMatch === "*") {
                await link(from, to);
                await unlink(from);
              } else await rename(from, to);
              break;
            } catch (error) {
              if (errno(error) === "EEXIST") throw preconditionFailed(destination, "an object exists");
              if (errno(error) === "EISDIR" || errno(error) === "ENOTEMPTY")
                throw conflict(destination, error);
              if (errno(error) !== "ENOENT" || attempt >= 5) throw error;
            }
          }
        } catch (error) {
          if (placed && sidecar && !dataNamesInode(to, sidecar.ino))
            await dropSidecar(destination).catch(() => {});
          throw error;
        }
        if (sidecar && !placed) await writeSidecar(destination, sidecar);
        if (!sidecar) await dropSidecar(destination);
        await rm(metaPath(source), { force: true });
        changed.delete(dirname(to));
        await Promise.all([
          syncDir(dirname(from)),
          syncDir(dirname(to)),
          ...[...changed].map((dir) => syncDir(dir)),
        ]);
        return sidecar ? toInfo(destination, sidecar, await stat(to)) : bareInfo(destination, lstatSync(to));
      }),
    );
  }

  return {
    async copy(sourceKey, destinationKey, copyOptions = {}) {
      validateKey(sourceKey);
      validateKey(destinationKey);
      const { handle, info } = await openConsistent(sourceKey);
      const contentType = copyOptions.contentType ?? info.contentType;
      const staged = await stage(handle.createReadStream({ start: 0 }), undefined, undefined, {
        flush: false,
      });
      // The bytes are the source's: in "version" mode its recorded sha256 still holds.
      const sha256 = staged.sha256 ?? info.sha256;
      try {
        return await commit(
          destinationKey,
          staged,
          {
            etag: etagOf(staged),
            ...(sha256 === undefined ? {} : { sha256 }),
            metadata: copyOptions.metadata ?? info.metadata,
            ...(contentType === undefined ? {} : { contentType }),
          },
          copyOptions.ifNoneMatch ? { ifNoneMatch: "*" } : {},
        );
      } catch (error) {
        await rm(staged.path, { force: true });
        throw error;
      }
    },

    async rename(sourceKey, destinationKey, renameOptions = {}) {
      validateKey(sourceKey);
      validateKey(destinationKey);
      await ready();
      if (sourceKey === destinationKey) {
        const { handle, info } = await openConsistent(sourceKey);
        await handle.close();
        return info;
      }
      const info = await renameObject(sourceKey, destinationKey, renameOptions).catch((error) => {
        throw translateFsError(error, sourceKey);
      });
      await prune(dirname(dataPath(sourceKey)), root);
      await prune(dirname(metaPath(sourceKey)), metaRoot);
      return info;
    },

    async renamePrefix(sourcePrefix, destinationPrefix) {
      validatePrefix(sourcePrefix);
      validatePrefix(destinationPrefix);
      checkRenamePrefixes(sourcePrefix, destinationPrefix);
      await ready();
      const folder = (prefix: string) => prefix.slice(0, -1);
      const from = dataPath(folder(sourcePrefix));
      const to = dataPath(folder(destinationPrefix));
      try {
        const stats = await lstat(from).catch(() => undefined);
        if (!stats?.isDirectory()) {
          throw new WharfError("NOT_FOUND", `nothing below ${sourcePrefix}`, {
            details: { prefix: sourcePrefix },
          });
        }
        await assertInside(sourcePrefix, from);
        await makeParents(folder(destinationPrefix), to);
        const taken = await lstat(to).then(
          () => true,
          () => false,
        );
        if (taken) throw preconditionFailed(destinationPrefix, "something exists");
        // Sidecars first: a reader that finds data without its sidecar waits for the key lock and
        // then repairs it, so moving the data last keeps every moved object described.
        const metaFrom = metaPath(folder(sourcePrefix));
        const metaTo = metaPath(folder(destinationPrefix));
        await mkdir(dirname(metaTo), { recursive: true });
        await rm(metaTo, { recursive: true, force: true });
        await rename(metaFrom, metaTo).catch((error) => {
          if (errno(error) !== "ENOENT") throw error;
        });
        await rename(from, to);
        await syncDir(dirname(from));
        await syncDir(dirname(to));
      } catch (error) {
        if (errno(error) === "EEXIST" || errno(error) === "ENOTEMPTY") {
          throw preconditionFailed(destinationPrefix, "something exists");
        }
        throw translateFsError(error, sourcePrefix);
      }
      await prune(dirname(from), root);
      await prune(dirname(metaPath(folder(sourcePrefix))), metaRoot);
    },
  };
}
