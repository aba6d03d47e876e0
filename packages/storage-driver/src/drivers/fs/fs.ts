import { LOCAL_MULTIPART_LIMITS } from "../../parts.ts";
import type { Capabilities, StorageDriver } from "../../types.ts";
import { createFsContext } from "./context.ts";
import { createDescriber } from "./describe.ts";
import { createMoves } from "./move.ts";
import { createMultipart } from "./multipart.ts";
import { createPresign } from "./presign.ts";
import { createReads } from "./read.ts";
import { createSidecars } from "./sidecar.ts";
import { sweepStaleFiles } from "./sweep.ts";
import { createList } from "./walk.ts";
import { createWrites } from "./write.ts";

export { makeDirs } from "./context.ts";

export interface FsPresignOptions {
  /** Public base URL of the route that mounts `handlePresignedRequest`, e.g. `https://app/storage`. */
  readonly baseUrl: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly region?: string;
}

export interface FsDriverOptions {
  /** Absolute directory holding the objects; created when missing. */
  readonly root: string;
  /** fsync files and folders before a write is acknowledged (default true). */
  readonly fsync?: boolean;
  readonly presign?: FsPresignOptions;
  /**
   * Staging files (bodies being written) untouched for this long are left over from a crashed
   * process and are removed by a bounded background sweep when the driver is created. Default
   * 1 hour, at least 1 minute; `Infinity` disables the sweep.
   */
  readonly stagingMaxAgeMs?: number;
  /**
   * What an object's etag is. `"md5"` (the default): the md5 of the body, as S3 gives for a
   * single-part upload; md5 and sha256 are computed on every write. `"version"`: an opaque id that
   * changes on every write (enough for `ifMatch`); writes compute no digest at all, except sha256
   * when the caller passes `sha256` to verify. For apps that never compare etags with content hashes.
   */
  readonly etag?: FsEtagMode;
}

export type FsEtagMode = "md5" | "version";

/**
 * Objects as plain files under `root` (`root/photos/cat.jpg` for key `photos/cat.jpg`), with a
 * JSON sidecar per object, staging, locks and multipart parts under `root/.wharf-storage/`.
 * Writes go to a staging file, are fsynced and renamed into place; conditional writes hold a
 * cross-process lock file. Keys that share a folder name with an object (`a` and `a/b`) conflict.
 *
 * @example
 * const storage = createFsDriver({ root: "/srv/wharf/data" });
 */
export function createFsDriver(options: FsDriverOptions): StorageDriver {
  const fs = createFsContext(options);
  const stagingMaxAgeMs = Math.max(options.stagingMaxAgeMs ?? 60 * 60 * 1000, 60 * 1000);
  // Lazily, in the background: the first operation never waits for it (close() does).
  const sweeping =
    stagingMaxAgeMs === Number.POSITIVE_INFINITY
      ? Promise.resolve(0)
      : sweepStaleFiles(fs.stagingDir, { olderThanMs: stagingMaxAgeMs });

  const capabilities: Capabilities = Object.freeze({
    rangeRead: true,
    conditionalWrite: true,
    presign: options.presign !== undefined,
    presignedPost: false,
    multipart: true,
    multipartLimits: LOCAL_MULTIPART_LIMITS,
    preferredWriteBufferBytes: 0,
    rename: true,
    folderMarkers: false,
    md5Etags: fs.md5Etags,
  });
  const sidecars = createSidecars(fs);
  const describer = createDescriber(fs, sidecars);
  const writes = createWrites(fs, sidecars, describer);

  return {
    name: "fs",
    capabilities,
    ...createReads(describer),
    put: writes.put,
    delete: writes.delete,
    ...createList(fs, describer),
    ...createMoves(fs, sidecars, describer, writes),
    ...createPresign(options),
    ...createMultipart(fs, writes),

    async close() {
      await sweeping;
    },
  };
}
