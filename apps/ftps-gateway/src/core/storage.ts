import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "@wharf/http-kit";
import { openStorage, type StorageDriver, storageFolder } from "@wharf/storage-driver";
import type { Config } from "./config.ts";
import type { FolderTime } from "./vfs.ts";

/**
 * Opens the configured store as the gateway uses it: certificates checked against `AWS_CA_BUNDLE`
 * when set; not checked at all with aioftps3's explicit `AWS_S3_BUCKET__VERIFY_CERTS=false` (honoured,
 * loudly); and on a local disk, folder times read from the folders themselves.
 */
export async function openGatewayStorage(
  config: Pick<Config, "storageUrl" | "verifyCerts" | "caBundle">,
  logger: Pick<Logger, "warn">,
): Promise<{ driver: StorageDriver; folderTime?: FolderTime }> {
  let tls: { ca: Buffer } | { rejectUnauthorized: false } | undefined;
  if (config.caBundle !== undefined) {
    tls = { ca: await readFile(config.caBundle) };
    if (!config.verifyCerts)
      logger.warn(
        "AWS_S3_BUCKET__VERIFY_CERTS=false is overridden by AWS_CA_BUNDLE: S3 certificates are checked against that bundle",
      );
  } else if (!config.verifyCerts) {
    tls = { rejectUnauthorized: false };
    logger.warn(
      "AWS_S3_BUCKET__VERIFY_CERTS=false: S3 certificates are NOT verified, so anyone on the path to the store can read and change every file; set AWS_CA_BUNDLE to the store's CA certificate instead",
    );
  }
  // No FTP verb shows an etag, so fs writes need not hash the bytes (etag=md5 in the URL still wins).
  const driver = await openStorage(config.storageUrl, { fsEtag: "version", ...(tls ? { tls } : {}) });
  const root = storageFolder(config.storageUrl);
  if (root === undefined) return { driver };
  const folderTime: FolderTime = async (prefix) => {
    const info = await stat(join(root, ...prefix.split("/").filter(Boolean))).catch(() => undefined);
    return info?.isDirectory() ? info.mtime : undefined;
  };
  return { driver, folderTime };
}
