import type { Readable } from "node:stream";
import {
  type BlobGetPropertiesResponse,
  BlobSASPermissions,
  type BlobServiceClient,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import { WharfError } from "@wharf/errors";
import { heedErrors, throwIfAborted } from "../../body.ts";
import { validatePrefix } from "../../keys.ts";
import { MAX_PARTS } from "../../parts.ts";
import { resolveRange } from "../../range.ts";
import type {
  Capabilities,
  GetOptions,
  GetResult,
  ObjectInfo,
  PresignedRequest,
  StorageDriver,
} from "../../types.ts";
import { azureErrorCode, translateAzureError } from "./errors.ts";
import { listBlobsPage } from "./list.ts";
import { decodeMetadata, encodeMetadata } from "./metadata.ts";
import { createMultipart } from "./multipart.ts";
import { quote, unquote, writeBlob } from "./write.ts";

export interface AzureDriverOptions {
  /** The Blob service, with its credential (see `createAzureServiceClient`). */
  readonly service: BlobServiceClient;
  /** Container name: 3–63 lower-case letters, digits and single hyphens. It must exist. */
  readonly container: string;
  /** Blob name prefix inside the container, ending with `/` (or empty). */
  readonly prefix?: string;
  /** Bytes per staged block (default 8 MiB, at least 1 MiB); a body of at most one block is one request. */
  readonly blockSize?: number;
  /** Blocks staged in parallel per upload (default 4). Memory per upload ≈ blockSize × (concurrency + 1). */
  readonly concurrency?: number;
}

const containerPattern = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;

function infoOf(key: string, properties: Omit<BlobGetPropertiesResponse, "_response">): ObjectInfo {
  const { metadata, sha256 } = decodeMetadata(properties.metadata);
  return {
    key,
    size: properties.contentLength ?? 0,
    etag: unquote(properties.etag),
    lastModified: properties.lastModified ?? new Date(0),
    ...(properties.contentType === undefined ? {} : { contentType: properties.contentType }),
    metadata,
    ...(sha256 === undefined ? {} : { sha256 }),
  };
}

/**
 * Block blobs in one Azure Storage container (or Azurite), under an optional name prefix. Uploads
 * stream in blocks with bounded memory and become visible atomically at commit; conditional writes
 * use Azure's own `If-None-Match: *` / `If-Match`; copies are server-side; presigned URLs are SAS
 * URLs (only with a shared-key credential: `capabilities.presign` says so).
 *
 * @example
 * const driver = createAzureDriver({ service: createAzureServiceClient({ account, key }), container: "lfs" });
 */
export function createAzureDriver(options: AzureDriverOptions): StorageDriver {
  if (!containerPattern.test(options.container))
    throw new WharfError(
      "INVALID_ARGUMENT",
      `invalid Azure container name ${JSON.stringify(options.container)}`,
    );
  const root = options.prefix ?? "";
  if (root !== "") validatePrefix(root);
  if (root !== "" && !root.endsWith("/"))
    throw new WharfError("INVALID_ARGUMENT", "the Azure blob name prefix must end with /");
  const blockSize = Math.max(options.blockSize ?? 8 * 1024 * 1024, 1024 * 1024);
  const concurrency = Math.max(options.concurrency ?? 4, 1);
  const container = options.service.getContainerClient(options.container);
  const sharedKey =
    options.service.credential instanceof StorageSharedKeyCredential ? options.service.credential : undefined;
  const blob = (key: string) => container.getBlockBlobClient(root + key);
  const capabilities: Capabilities = Object.freeze({
    rangeRead: true,
    conditionalWrite: true,
    presign: sharedKey !== undefined,
    // Browser forms are S3's (SigV4 POST policies); Azure has none.
    presignedPost: false,
    multipart: true,
    // Parts are staged blocks: any size up to Azure's 4000 MiB block, as many as Wharf's parts.
    multipartLimits: Object.freeze({
      minPartBytes: 0,
      maxPartBytes: 4000 * 1024 * 1024,
      maxParts: MAX_PARTS,
    }),
    // Bodies stream into blocks as they come; a writer gains nothing by buffering for the driver.
    preferredWriteBufferBytes: 0,
    rename: false,
    folderMarkers: false,
    // Blob ETags are opaque (not the body's MD5).
    md5Etags: false,
  });

  async function head(key: string): Promise<ObjectInfo> {
    try {
      return infoOf(key, await blob(key).getProperties());
    } catch (error) {
      throw translateAzureError(error, key);
    }
  }

  async function currentEtag(key: string): Promise<string | undefined> {
    try {
      return (await head(key)).etag;
    } catch (error) {
      if (azureErrorCode(error) === "NOT_FOUND") return undefined;
      throw error;
    }
  }

  const unsupported = (what: string) => async (): Promise<never> => {
    throw new WharfError(
      "UNSUPPORTED",
      `the azure driver does not support ${what} (capability rename is not declared)`,
      { details: { capability: "rename" } },
    );
  };

  return {
    name: "azure",
    capabilities,
    head,

    async get(key, getOptions: GetOptions = {}): Promise<GetResult> {
      throwIfAborted(getOptions.signal);
      const range = getOptions.range;
      let offset = 0;
      let count: number | undefined;
      let ifMatch = getOptions.ifMatch;
      if (range !== undefined && "suffix" in range) {
        // Azure has no suffix ranges: resolve against the current size, then read that version.
        const current = await head(key);
        const resolved = resolveRange(range, current.size);
        ({ start: offset } = resolved);
        count = resolved.end - resolved.start + 1;
        if (ifMatch !== undefined && ifMatch !== current.etag)
          throw new WharfError("PRECONDITION_FAILED", `precondition failed at ${key}`);
        ifMatch = current.etag;
      } else if (range !== undefined) {
        resolveRange(range, Number.MAX_SAFE_INTEGER);
        offset = range.start;
        if (range.end !== undefined) count = range.end - range.start + 1;
      }
      try {
        const response = await blob(key).download(offset, count, {
          ...(ifMatch === undefined ? {} : { conditions: { ifMatch: quote(ifMatch) } }),
          ...(getOptions.signal ? { abortSignal: getOptions.signal } : {}),
        });
        // Nobody may be reading when the signal aborts: the body ends, its error heard here.
        const body = heedErrors(response.readableStreamBody as Readable);
        const signal = getOptions.signal;
        if (signal) {
          const abort = () => body.destroy(signal.reason as Error);
          signal.addEventListener("abort", abort, { once: true });
          body.once("close", () => signal.removeEventListener("abort", abort));
        }
        const contentRange = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.contentRange ?? "");
        const total = contentRange ? Number(contentRange[3]) : (response.contentLength ?? 0);
        // The response's fields are getters on its prototype: name them, a spread would drop them.
        const info = infoOf(key, {
          contentLength: total,
          etag: response.etag,
          lastModified: response.lastModified,
          contentType: response.contentType,
          metadata: response.metadata,
        });
        if (range === undefined) return { info, body };
        // Without Content-Range the whole body came back: right for a range from 0, but Azurite also
        // answers a range that starts at or past the end so, where Azure answers 416.
        const start = contentRange ? Number(contentRange[1]) : 0;
        const end = contentRange ? Number(contentRange[2]) : total - 1;
        if (offset >= total || start !== offset) {
          body.destroy();
          throw new WharfError(
            "RANGE_NOT_SATISFIABLE",
            `range not satisfiable for an object of ${total} bytes`,
            {
              details: { total },
            },
          );
        }
        return { info, body, range: { start, end, total } };
      } catch (error) {
        throw translateAzureError(error, key, { ifMatch: ifMatch !== undefined });
      }
    },

    async put(key, body, putOptions = {}) {
      // A stream body that fails before it is read rejects the put; its error is never uncaught.
      heedErrors(body);
      const written = await writeBlob(blob(key), key, body, {
        ...putOptions,
        blockSize,
        concurrency,
        currentEtag: () => currentEtag(key),
      });
      return {
        key,
        size: written.size,
        etag: written.etag,
        lastModified: written.lastModified,
        contentType: putOptions.contentType ?? "application/octet-stream",
        metadata: { ...putOptions.metadata },
        ...(written.sha256 === undefined ? {} : { sha256: written.sha256 }),
      };
    },

    async delete(key) {
      try {
        await blob(key).deleteIfExists();
      } catch (error) {
        throw translateAzureError(error, key);
      }
    },

    list: (listOptions = {}) => listBlobsPage(container, root, listOptions),

    async copy(sourceKey, destinationKey, copyOptions = {}) {
      const replace = copyOptions.metadata !== undefined || copyOptions.contentType !== undefined;
      const source = replace ? await head(sourceKey) : undefined;
      const destination = blob(destinationKey);
      let etag: string;
      try {
        const poller = await destination.beginCopyFromURL(blob(sourceKey).url, {
          ...(copyOptions.ifNoneMatch ? { conditions: { ifNoneMatch: "*" } } : {}),
          ...(source
            ? { metadata: encodeMetadata(copyOptions.metadata ?? source.metadata, source.sha256) }
            : {}),
          intervalInMs: 200,
        });
        const result = await poller.pollUntilDone();
        if (result.copyStatus !== "success")
          throw new WharfError("UNAVAILABLE", `copy to ${destinationKey} ended ${result.copyStatus}`);
        etag = result.etag ?? "";
        if (copyOptions.contentType !== undefined) {
          await destination.setHTTPHeaders(
            { blobContentType: copyOptions.contentType },
            { conditions: { ifMatch: etag } },
          );
        }
      } catch (error) {
        const translated = translateAzureError(error, destinationKey, {
          ifNoneMatch: copyOptions.ifNoneMatch !== undefined,
        });
        if (translated.code === "NOT_FOUND")
          throw new WharfError("NOT_FOUND", `no object at ${sourceKey}`, { cause: error });
        throw translated;
      }
      return head(destinationKey);
    },

    rename: unsupported("rename"),
    renamePrefix: unsupported("renamePrefix"),

    async presign(key, presignOptions): Promise<PresignedRequest> {
      if (!sharedKey)
        throw new WharfError(
          "UNSUPPORTED",
          "presign needs a shared-key credential (AZURE_STORAGE_KEY or a connection string with AccountKey)",
        );
      if (
        !(
          Number.isSafeInteger(presignOptions.expiresIn) &&
          presignOptions.expiresIn >= 1 &&
          presignOptions.expiresIn <= 604_800
        )
      )
        throw new WharfError("INVALID_ARGUMENT", "expiresIn must be 1 … 604800 seconds");
      const expiresOn = new Date(Date.now() + presignOptions.expiresIn * 1000);
      const target = blob(key);
      const sas = generateBlobSASQueryParameters(
        {
          containerName: options.container,
          blobName: root + key,
          permissions: BlobSASPermissions.parse(presignOptions.method === "PUT" ? "cw" : "r"),
          expiresOn,
          ...(presignOptions.responseContentDisposition === undefined
            ? {}
            : { contentDisposition: presignOptions.responseContentDisposition }),
        },
        sharedKey,
      );
      const headers: Record<string, string> = {};
      if (presignOptions.method === "PUT") {
        headers["x-ms-blob-type"] = "BlockBlob";
        if (presignOptions.contentType !== undefined) headers["content-type"] = presignOptions.contentType;
      }
      return {
        url: `${target.url}?${sas.toString()}`,
        method: presignOptions.method,
        headers,
        expiresAt: expiresOn,
      };
    },

    ...createMultipart({ container, root, blob, currentEtag, info: head }),

    async close() {},
  };
}
