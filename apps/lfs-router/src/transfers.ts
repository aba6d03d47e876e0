import { createHash, randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isWharfError, WharfError } from "@wharf/errors";
import type { StorageDriver } from "@wharf/storage-driver";
import { type Layout, repoPath } from "./layout.ts";
import type { LinkSigner } from "./links.ts";

export interface LfsAction {
  readonly href: string;
  readonly header?: Readonly<Record<string, string>>;
  readonly expires_in: number;
}

export interface ObjectRef {
  readonly repo: string;
  readonly oid: string;
  readonly size: number;
}

/** How object bytes travel: straight to the store with presigned URLs, or through the router. */
export interface Transfers {
  readonly mode: "direct" | "proxy";
  /**
   * The actions for an object the store does not have yet: `upload`, plus `verify` when the upload
   * goes straight to the store. An upload through the router is checked (sha256, size) and durable
   * before its 200, so it gets no `verify`: git-lfs then makes no second request per object.
   */
  uploadActions(object: ObjectRef, baseUrl: string): Promise<{ upload: LfsAction; verify?: LfsAction }>;
  downloadAction(object: ObjectRef, baseUrl: string): Promise<LfsAction>;
  /**
   * A proxied upload: streams `body` to the object's key, which the store makes visible only if
   * its size and sha256 match (`CHECKSUM_MISMATCH`/`INVALID_ARGUMENT` otherwise).
   */
  receive(object: ObjectRef, body: Readable): Promise<void>;
  /**
   * The verify call: the object exists with this size (a staged direct upload is hashed, then
   * published). `NOT_FOUND` when absent, `CHECKSUM_MISMATCH`/`INVALID_ARGUMENT` when it does not match.
   * Proxied uploads get no verify action, but a link from an older batch response still works.
   */
  verify(object: ObjectRef, nonce: string | undefined): Promise<void>;
}

export interface TransfersOptions {
  readonly driver: StorageDriver;
  readonly layout: Layout;
  readonly links: LinkSigner;
  readonly mode: "direct" | "proxy";
  /** Direct mode: the store rejects a presigned PUT whose body does not match `x-amz-checksum-sha256`. */
  readonly storeEnforcesSha256: boolean;
  readonly expiresIn: number;
}

/** A single presigned PUT cannot exceed 5 GiB; larger objects go through the router, which streams multipart. */
const maxSinglePut = 5 * 1024 ** 3;

export function objectPath(baseUrl: string, object: ObjectRef): string {
  return `${baseUrl}/${repoPath(object.repo)}/info/lfs/objects/${object.oid}`;
}

export function createTransfers(options: TransfersOptions): Transfers {
  const { driver, layout, links, expiresIn } = options;
  const link = (
    href: string,
    method: "GET" | "PUT" | "POST",
    object: ObjectRef,
    nonce?: string,
  ): LfsAction => ({
    href: `${href}?${links.sign({ method, repo: object.repo, oid: object.oid, size: object.size, ...(nonce ? { nonce } : {}) }, expiresIn)}`,
    expires_in: expiresIn,
  });
  const proxied = (object: ObjectRef, baseUrl: string) => ({
    upload: link(objectPath(baseUrl, object), "PUT", object),
  });

  return {
    mode: options.mode,

    async uploadActions(object, baseUrl) {
      if (options.mode === "proxy" || object.size > maxSinglePut) return proxied(object, baseUrl);
      const nonce = options.storeEnforcesSha256 ? undefined : randomBytes(12).toString("hex");
      const key = nonce
        ? layout.stagingKey(object.repo, object.oid, nonce)
        : layout.objectKey(object.repo, object.oid);
      const presigned = await driver.presign(key, {
        method: "PUT",
        expiresIn,
        contentLength: object.size,
        ...(nonce ? {} : { sha256: object.oid }),
      });
      const header = Object.keys(presigned.headers).length > 0 ? { header: presigned.headers } : {};
      return {
        upload: { href: presigned.url, ...header, expires_in: expiresIn },
        verify: link(`${objectPath(baseUrl, object)}/verify`, "POST", object, nonce),
      };
    },

    async downloadAction(object, baseUrl) {
      if (options.mode === "proxy") return link(objectPath(baseUrl, object), "GET", object);
      const presigned = await driver.presign(layout.objectKey(object.repo, object.oid), {
        method: "GET",
        expiresIn,
      });
      const header = Object.keys(presigned.headers).length > 0 ? { header: presigned.headers } : {};
      return { href: presigned.url, ...header, expires_in: expiresIn };
    },

    async receive(object, body) {
      const key = layout.objectKey(object.repo, object.oid);
      await driver.put(key, body, {
        size: object.size,
        sha256: object.oid,
        // The key names the sha256 already; not recording it spares the fs driver a sidecar.
        recordSha256: false,
        contentType: "application/octet-stream",
      });
    },

    async verify(object, nonce) {
      const key = layout.objectKey(object.repo, object.oid);
      if (nonce !== undefined)
        await publishStaged(driver, layout.stagingKey(object.repo, object.oid, nonce), key, object);
      const info = await driver.head(key);
      if (info.size !== object.size)
        throw new WharfError(
          "INVALID_ARGUMENT",
          `object ${object.oid} has ${info.size} bytes, not ${object.size}`,
        );
    },
  };
}

/** Hashes a staged upload and, when it matches its oid and size, copies it to its public key. */
async function publishStaged(
  driver: StorageDriver,
  staging: string,
  key: string,
  object: ObjectRef,
): Promise<void> {
  let staged: Awaited<ReturnType<StorageDriver["get"]>>;
  try {
    staged = await driver.get(staging);
  } catch (error) {
    if (isWharfError(error, "NOT_FOUND")) return; // already published by an earlier verify, or never uploaded
    throw error;
  }
  const hash = createHash("sha256");
  let size = 0;
  await pipeline(staged.body, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) {
      size += chunk.length;
      hash.update(chunk);
    }
  });
  try {
    if (size !== object.size || hash.digest("hex") !== object.oid)
      throw new WharfError(
        "CHECKSUM_MISMATCH",
        `the uploaded body does not match ${object.oid} (${object.size} bytes)`,
      );
    await driver.copy(staging, key);
  } finally {
    await driver.delete(staging);
  }
}
