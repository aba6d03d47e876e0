import { randomBytes } from "node:crypto";
import { pipeline } from "node:stream/promises";
import type { BlockBlobClient, ContainerClient } from "@azure/storage-blob";
import { WharfError } from "@wharf/errors";
import {
  bodyError,
  checkPutOptions,
  DigestingStream,
  heedErrors,
  readAll,
  toBufferOrReadable,
} from "../../body.ts";
import { RESERVED_SEGMENT } from "../../keys.ts";
import { checkPartNumber } from "../../parts.ts";
import type { BodyInput, MultipartPart, ObjectInfo, PendingMultipart, PutOptions } from "../../types.ts";
import { azureErrorCode, translateAzureError } from "./errors.ts";
import { blockId, type CommitOptions, commitBlocks, parseBlockId } from "./write.ts";

/** Where a pending upload's manifest lives, below the driver's root: `.wharf-storage/uploads/<key>/<id>`. */
const UPLOADS = `${RESERVED_SEGMENT}/uploads/`;
const uploadIdPattern = /^[0-9a-f]{32}$/;
/** A part of unknown size is read into memory before it is staged (Azure wants each block's length). */
const MAX_UNSIZED_PART = 256 * 1024 * 1024;

export interface MultipartContext {
  readonly container: ContainerClient;
  readonly root: string;
  readonly blob: (key: string) => BlockBlobClient;
  readonly currentEtag: (key: string) => Promise<string | undefined>;
  readonly info: (key: string) => Promise<ObjectInfo>;
}

type CreateOptions = Omit<PutOptions, "size" | "sha256" | "recordSha256" | "signal">;

/**
 * Multipart uploads as staged blocks of the destination blob. The upload id is a random token; a
 * manifest blob under the reserved folder records the key, content type, metadata and conditions
 * given at create (so any process can complete it, and `listMultipartUploads` finds it). A part is
 * a block whose id holds the token, the part number and a nonce (the part's etag). Completion
 * commits the listed blocks; abort deletes the manifest, and the staged blocks, never visible,
 * go at the blob's next commit (or after a week).
 */
export function createMultipart(context: MultipartContext) {
  const manifest = (key: string, uploadId: string) => {
    if (!uploadIdPattern.test(uploadId)) throw new WharfError("NOT_FOUND", `no multipart upload ${uploadId}`);
    return context.blob(`${UPLOADS}${key}/${uploadId}`);
  };

  async function readManifest(key: string, uploadId: string): Promise<CreateOptions> {
    try {
      const body = await manifest(key, uploadId).downloadToBuffer();
      return JSON.parse(body.toString("utf8")) as CreateOptions;
    } catch (error) {
      if (azureErrorCode(error) === "NOT_FOUND")
        throw new WharfError("NOT_FOUND", `no multipart upload ${uploadId} for ${key}`, { cause: error });
      throw translateAzureError(error, key);
    }
  }

  async function parts(key: string, uploadId: string): Promise<MultipartPart[]> {
    const token = Buffer.from(uploadId, "hex");
    let blocks: Array<{ name: string; size: number }>;
    try {
      blocks = (await context.blob(key).getBlockList("uncommitted")).uncommittedBlocks ?? [];
    } catch (error) {
      if (azureErrorCode(error) === "NOT_FOUND") return [];
      throw translateAzureError(error, key);
    }
    const byNumber = new Map<number, MultipartPart>();
    for (const block of blocks) {
      const id = parseBlockId(block.name);
      if (!id?.token.equals(token)) continue;
      byNumber.set(id.index, { partNumber: id.index, etag: id.tag.toString("hex"), size: block.size });
    }
    return [...byNumber.values()].sort((a, b) => a.partNumber - b.partNumber);
  }

  return {
    async createMultipart(key: string, options: CreateOptions = {}): Promise<string> {
      checkPutOptions(options);
      const uploadId = randomBytes(16).toString("hex");
      const body = JSON.stringify(options);
      try {
        await manifest(key, uploadId).upload(body, Buffer.byteLength(body));
      } catch (error) {
        throw translateAzureError(error, key);
      }
      return uploadId;
    },

    async uploadPart(
      key: string,
      uploadId: string,
      partNumber: number,
      body: BodyInput,
      options: { size?: number; signal?: AbortSignal } = {},
    ): Promise<MultipartPart> {
      heedErrors(body);
      checkPartNumber(partNumber);
      await readManifest(key, uploadId);
      const nonce = randomBytes(16);
      const id = blockId(Buffer.from(uploadId, "hex"), partNumber, nonce);
      let input = toBufferOrReadable(body);
      if (!Buffer.isBuffer(input) && options.size === undefined) {
        input = await readAll(input, { maxBytes: MAX_UNSIZED_PART }).catch((error: unknown) => {
          throw bodyError(error, options.signal);
        });
      }
      const size = Buffer.isBuffer(input) ? input.length : (options.size as number);
      if (options.size !== undefined && size !== options.size)
        throw new WharfError("INVALID_ARGUMENT", `part has ${size} bytes, ${options.size} were declared`);
      const signal = options.signal ? { abortSignal: options.signal } : {};
      if (Buffer.isBuffer(input)) {
        try {
          await context.blob(key).stageBlock(id, input, size, signal);
        } catch (error) {
          throw translateAzureError(error, key);
        }
      } else {
        // Streamed with its declared length; a body of another length fails before the block is staged.
        const checked = new DigestingStream({
          limit: size,
          verify: { size },
          digests: { md5: false, sha256: false },
        });
        const piped = pipeline(input, checked).then(
          () => undefined,
          (error: unknown) => error,
        );
        try {
          await context.blob(key).stageBlock(id, checked, size, signal);
        } catch (error) {
          // A body that failed first explains the failed request; read it before the destroy below.
          const bodyFailure = await Promise.race([piped, undefined]);
          checked.destroy();
          throw bodyFailure === undefined
            ? translateAzureError(error, key)
            : bodyError(bodyFailure, options.signal);
        }
      }
      return { partNumber, etag: nonce.toString("hex"), size };
    },

    async listParts(key: string, uploadId: string): Promise<MultipartPart[]> {
      await readManifest(key, uploadId);
      return parts(key, uploadId);
    },

    async completeMultipart(
      key: string,
      uploadId: string,
      given: readonly MultipartPart[],
    ): Promise<ObjectInfo> {
      const options: CommitOptions = await readManifest(key, uploadId);
      const staged = new Map((await parts(key, uploadId)).map((part) => [part.partNumber, part]));
      const token = Buffer.from(uploadId, "hex");
      let size = 0;
      const ids = [...given]
        .sort((a, b) => a.partNumber - b.partNumber)
        .map((part) => {
          const found = staged.get(part.partNumber);
          if (found?.etag !== part.etag)
            throw new WharfError(
              "INVALID_ARGUMENT",
              `part ${part.partNumber} was not uploaded with etag ${part.etag}`,
            );
          size += found.size;
          return blockId(token, part.partNumber, Buffer.from(part.etag, "hex"));
        });
      await commitBlocks(
        context.blob(key),
        key,
        ids,
        size,
        { ...options, currentEtag: () => context.currentEtag(key) },
        undefined,
      );
      await manifest(key, uploadId)
        .deleteIfExists()
        .catch(() => undefined);
      return context.info(key);
    },

    async abortMultipart(key: string, uploadId: string): Promise<void> {
      if (!uploadIdPattern.test(uploadId)) return;
      try {
        await manifest(key, uploadId).deleteIfExists();
      } catch (error) {
        throw translateAzureError(error, key);
      }
    },

    async *listMultipartUploads(prefix = ""): AsyncIterable<PendingMultipart> {
      const base = context.root + UPLOADS;
      try {
        for await (const item of context.container.listBlobsFlat({ prefix: base + prefix })) {
          const rest = item.name.slice(base.length);
          const uploadId = rest.slice(rest.lastIndexOf("/") + 1);
          if (!uploadIdPattern.test(uploadId)) continue;
          yield {
            key: rest.slice(0, rest.lastIndexOf("/")),
            uploadId,
            initiated: item.properties.createdOn ?? item.properties.lastModified,
          };
        }
      } catch (error) {
        throw translateAzureError(error);
      }
    },
  };
}
