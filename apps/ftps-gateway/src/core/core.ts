import { createLoginGuard, type Verifier } from "@wharf/auth-jwt";
import { abortStaleUploads, type StorageDriver } from "@wharf/storage-driver";
import type { Logger } from "pino";
import { createAuthenticator, type Principal } from "./auth.ts";
import type { Config } from "./config.ts";
import { createLogins } from "./login.ts";
import type { GatewayMetrics } from "./metrics.ts";
import { createPartPool } from "./part-pool.ts";
import { createAbortRetrier } from "./part-upload.ts";
import { createUploader, type PartBuffers } from "./upload.ts";
import { createVfs, type FolderTime } from "./vfs.ts";

export interface CoreOptions {
  readonly config: Config;
  readonly driver: StorageDriver;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly verifier?: Verifier;
  readonly now?: () => Date;
  /** A folder's own time where the store keeps one (see `openGatewayStorage`). */
  readonly folderTime?: FolderTime;
  /** Delays between attempts to abort a failed multipart upload (default `abortRetryDelaysMs`). */
  readonly abortRetryDelaysMs?: readonly number[];
}

/** Least time `finish` waits for the aborts of interrupted multipart uploads. */
const minAbortWaitMs = 5000;

/**
 * The file-transfer core every front-end (ftp/, sftp/) translates its protocol onto: users and
 * logins with one lockout, each user's virtual filesystem over the store, uploads through one
 * path (upload.ts) with part buffers shared by all sessions, and the metrics.
 */
export function createCore(options: CoreOptions) {
  const { config, driver, logger, metrics } = options;
  const now = options.now ?? (() => new Date());
  const logins = createLogins({
    authenticator: createAuthenticator({
      users: config.users,
      jwt: options.verifier && config.jwt ? { verifier: options.verifier, home: config.jwt.home } : undefined,
    }),
    guard: createLoginGuard({
      ...config.login,
      now: options.now ? () => options.now!().getTime() : undefined,
    }),
    metrics,
    failureDelayMs: config.login.failureDelayMs,
  });
  const aborts = createAbortRetrier({
    driver,
    ...(options.abortRetryDelaysMs ? { delaysMs: options.abortRetryDelaysMs } : {}),
    onRetry: ({ key, uploadId, attempt, error }) =>
      logger.warn(
        { key, uploadId, attempt, err: error },
        "aborting a failed multipart upload failed; retrying",
      ),
    onGiveUp: ({ key, uploadId, error }) =>
      logger.error(
        { key, uploadId, err: error },
        "gave up aborting a multipart upload; its parts are left behind",
      ),
  });
  // In the background at start: uploads left by a gateway that died mid-transfer.
  const abandonedUploads = abortStaleUploads(driver, {
    olderThanMs: config.uploads.abandonedAfterMs,
    log: logger,
  });
  // Stores that take parts with their length (S3) get them buffered, in a budget shared by every session.
  const partBuffers: PartBuffers | undefined =
    driver.capabilities.preferredWriteBufferBytes > 0
      ? {
          pool: createPartPool({ partBytes: config.uploads.partBytes, parts: config.uploads.buffers }),
          perUpload: config.uploads.buffersPerSession,
          aborts,
        }
      : undefined;
  const uploader = createUploader({ driver, ...(partBuffers ? { partBuffers } : {}) });
  const dirSuffix = effectiveDirSuffix(config.dirSuffix, driver);

  return {
    driver,
    logins,
    metrics,
    now,
    /** The directory suffix as this store keeps markers (see `effectiveDirSuffix`). */
    dirSuffix,
    /** A logged-in user's view of the store: their home as `/`, uploads through the shared path. */
    vfsFor(principal: Principal, view: { foldersFirst?: boolean } = {}) {
      return createVfs({
        driver,
        home: principal.home,
        dirSuffix,
        rmdRecursive: config.rmdRecursive,
        uploader,
        now,
        ...(options.folderTime ? { folderTime: options.folderTime } : {}),
        ...(view.foldersFirst ? { foldersFirst: true } : {}),
      });
    },
    /** Failed multipart uploads whose abort is still being retried. */
    pendingAborts: () => aborts.pending(),
    /** How many abandoned multipart uploads the start-up sweep aborted, once it is done. */
    abandonedUploads: () => abandonedUploads,
    /**
     * After the front-ends closed: waits (`graceMs`, at least 5 s) for the aborts of interrupted
     * multipart uploads and logs what became of each.
     */
    async finish(graceMs: number): Promise<void> {
      await abandonedUploads;
      const { aborted, left } = await aborts.finish(Math.max(graceMs, minAbortWaitMs));
      for (const upload of aborted)
        logger.info(upload, "aborted the multipart upload of an interrupted transfer");
      for (const { error, ...upload } of left)
        logger.error(
          { ...upload, err: error, stillRunning: error === undefined },
          "shutting down with a multipart upload not aborted; its parts are left behind",
        );
    },
  };
}

export type Core = ReturnType<typeof createCore>;

/**
 * A suffix ending with `/` (aioftps3's README example `/`) makes markers S3 folder markers (`a/`),
 * which stores with `capabilities.folderMarkers` hold. The fs driver has real folders and refuses
 * such keys, so there the marker is a file in the folder instead (`a/.s3keep`).
 */
export function effectiveDirSuffix(suffix: string, driver: StorageDriver): string {
  return suffix.endsWith("/") && !driver.capabilities.folderMarkers ? `${suffix}.s3keep` : suffix;
}
