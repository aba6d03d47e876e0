import { randomUUID } from "node:crypto";
import { addAbortSignal, Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { WharfError } from "@wharf/errors";
import {
  bodyError,
  checkBody,
  checkPutOptions,
  DigestingStream,
  heedErrors,
  multipartEtag,
  throwIfAborted,
  toReadable,
} from "../../body.ts";
import { compareKeys } from "../../compare-keys.ts";
import { type KeyOptions, validateKey, validatePrefix } from "../../keys.ts";

/** S3 and this driver store folder-marker keys (`photos/`). */
const markers: KeyOptions = { folderMarker: true };

import { listPage, type WalkEntry } from "../../list-page.ts";
import { checkRenamePrefixes } from "../../move.ts";
import { checkPartNumber, LOCAL_MULTIPART_LIMITS } from "../../parts.ts";
import { resolveRange } from "../../range.ts";
import type {
  BodyInput,
  Capabilities,
  CopyOptions,
  GetOptions,
  GetResult,
  ListOptions,
  ListPage,
  MultipartPart,
  ObjectInfo,
  PutOptions,
  StorageDriver,
} from "../../types.ts";

interface StoredObject {
  readonly data: Buffer;
  readonly info: ObjectInfo;
}

interface PendingUpload {
  readonly key: string;
  readonly options: Omit<PutOptions, "size" | "sha256" | "signal">;
  readonly parts: Map<number, { data: Buffer; part: MultipartPart }>;
  readonly initiated: Date;
}

const capabilities: Capabilities = Object.freeze({
  rangeRead: true,
  conditionalWrite: true,
  presign: false,
  presignedPost: false,
  multipart: true,
  multipartLimits: LOCAL_MULTIPART_LIMITS,
  preferredWriteBufferBytes: 0,
  rename: true,
  folderMarkers: true,
  md5Etags: true,
});

export interface MemoryDriverOptions {
  /** Clock for `lastModified`; defaults to `() => new Date()`. */
  readonly now?: () => Date;
}

/**
 * A driver that keeps objects in a Map. For unit tests of code that uses storage.
 *
 * @example
 * const storage = createMemoryDriver();
 * await storage.put("a.txt", "hello", { contentType: "text/plain" });
 */
export function createMemoryDriver(options: MemoryDriverOptions = {}): StorageDriver {
  const now = options.now ?? (() => new Date());
  const objects = new Map<string, StoredObject>();
  const uploads = new Map<string, PendingUpload>();

  async function consume(body: BodyInput, limit: number | undefined, signal: AbortSignal | undefined) {
    throwIfAborted(signal);
    const digest = new DigestingStream(limit === undefined ? {} : { limit });
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    });
    try {
      await pipeline(toReadable(body), digest, sink, ...(signal ? [{ signal }] : []));
    } catch (error) {
      throw bodyError(error, signal);
    }
    return { data: Buffer.concat(chunks), size: digest.byteCount, ...digest.allDigests() };
  }

  function existing(key: string): StoredObject {
    validateKey(key, markers);
    const stored = objects.get(key);
    if (!stored) throw new WharfError("NOT_FOUND", `no object at ${key}`, { details: { key } });
    return stored;
  }

  function checkConditions(key: string, conditions: { ifNoneMatch?: "*"; ifMatch?: string }): void {
    const current = objects.get(key);
    if (conditions.ifNoneMatch === "*" && current) {
      throw new WharfError("PRECONDITION_FAILED", `an object exists at ${key}`, { details: { key } });
    }
    if (conditions.ifMatch !== undefined && current?.info.etag !== conditions.ifMatch) {
      throw new WharfError("PRECONDITION_FAILED", `etag of ${key} does not match`, { details: { key } });
    }
  }

  function store(
    key: string,
    data: Buffer,
    info: Omit<ObjectInfo, "key" | "size" | "lastModified">,
  ): ObjectInfo {
    const full: ObjectInfo = { key, size: data.length, lastModified: now(), ...info };
    objects.set(key, { data, info: full });
    return full;
  }

  function upload(key: string, uploadId: string): PendingUpload {
    const pending = uploads.get(uploadId);
    if (!pending || pending.key !== key) {
      throw new WharfError("NOT_FOUND", `no multipart upload ${uploadId} for ${key}`, {
        details: { key, uploadId },
      });
    }
    return pending;
  }

  return {
    name: "memory",
    capabilities,

    async head(key) {
      return existing(key).info;
    },

    async get(key, options: GetOptions = {}): Promise<GetResult> {
      throwIfAborted(options.signal);
      const { data, info } = existing(key);
      if (options.ifMatch !== undefined && options.ifMatch !== info.etag) {
        throw new WharfError("PRECONDITION_FAILED", `etag of ${key} does not match`, { details: { key } });
      }
      const range = options.range ? resolveRange(options.range, data.length) : undefined;
      const bytes = Buffer.from(range ? data.subarray(range.start, range.end + 1) : data);
      // An abort destroys the body, as the fs and S3 drivers' bodies are.
      const body = Readable.from([bytes]);
      if (options.signal) addAbortSignal(options.signal, body);
      heedErrors(body);
      return range ? { info, body, range } : { info, body };
    },

    async put(key, body, options: PutOptions = {}) {
      heedErrors(body);
      validateKey(key, markers);
      checkPutOptions(options);
      const result = await consume(body, options.size, options.signal);
      checkBody(result, options);
      checkConditions(key, options);
      return store(key, result.data, {
        etag: result.md5,
        sha256: result.sha256,
        metadata: { ...options.metadata },
        ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
      });
    },

    async delete(key) {
      validateKey(key, markers);
      objects.delete(key);
    },

    async list(options: ListOptions = {}): Promise<ListPage> {
      if (options.prefix) validatePrefix(options.prefix);
      // Only the keys under the prefix are sorted, not the whole store, for every page.
      const prefix = options.prefix ?? "";
      const keys = [...objects.keys()].filter((key) => key.startsWith(prefix)).sort(compareKeys);
      return listPage(async function* (): AsyncGenerator<WalkEntry> {
        for (const key of keys) {
          yield {
            key,
            async load() {
              const info = objects.get(key)?.info;
              return info && { key, size: info.size, etag: info.etag, lastModified: info.lastModified };
            },
          };
        }
      }, options);
    },

    async copy(sourceKey, destinationKey, options: CopyOptions = {}) {
      const source = existing(sourceKey);
      validateKey(destinationKey, markers);
      checkConditions(destinationKey, options);
      const contentType = options.contentType ?? source.info.contentType;
      return store(destinationKey, source.data, {
        etag: source.info.etag,
        metadata: { ...(options.metadata ?? source.info.metadata) },
        ...(source.info.sha256 === undefined ? {} : { sha256: source.info.sha256 }),
        ...(contentType === undefined ? {} : { contentType }),
      });
    },

    async rename(sourceKey, destinationKey, options = {}) {
      const source = existing(sourceKey);
      validateKey(destinationKey, markers);
      if (sourceKey === destinationKey) return source.info;
      checkConditions(destinationKey, options);
      const info: ObjectInfo = { ...source.info, key: destinationKey };
      objects.set(destinationKey, { data: source.data, info });
      objects.delete(sourceKey);
      return info;
    },

    async renamePrefix(sourcePrefix, destinationPrefix) {
      validatePrefix(sourcePrefix);
      validatePrefix(destinationPrefix);
      checkRenamePrefixes(sourcePrefix, destinationPrefix);
      const keys = [...objects.keys()];
      const moving = keys.filter((key) => key.startsWith(sourcePrefix));
      if (moving.length === 0) throw new WharfError("NOT_FOUND", `nothing below ${sourcePrefix}`);
      if (keys.some((key) => key.startsWith(destinationPrefix))) {
        throw new WharfError("PRECONDITION_FAILED", `${destinationPrefix} is not empty`);
      }
      for (const key of moving) {
        const stored = objects.get(key)!;
        const target = destinationPrefix + key.slice(sourcePrefix.length);
        objects.set(target, { data: stored.data, info: { ...stored.info, key: target } });
        objects.delete(key);
      }
    },

    async presign() {
      throw new WharfError("UNSUPPORTED", "the memory driver cannot presign (capability presign)", {
        details: { capability: "presign" },
      });
    },

    async createMultipart(key, options = {}) {
      validateKey(key, markers);
      const uploadId = randomUUID();
      uploads.set(uploadId, { key, options, parts: new Map(), initiated: new Date() });
      return uploadId;
    },

    async uploadPart(key, uploadId, partNumber, body, options = {}) {
      heedErrors(body);
      const pending = upload(key, uploadId);
      checkPartNumber(partNumber);
      const result = await consume(body, options.size, options.signal);
      checkBody(result, options);
      const part: MultipartPart = { partNumber, etag: result.md5, size: result.size };
      pending.parts.set(partNumber, { data: result.data, part });
      return part;
    },

    async *listMultipartUploads(prefix = "") {
      if (prefix) validatePrefix(prefix);
      for (const [uploadId, pending] of [...uploads]) {
        if (pending.key.startsWith(prefix))
          yield { key: pending.key, uploadId, initiated: pending.initiated };
      }
    },

    async listParts(key, uploadId) {
      return [...upload(key, uploadId).parts.values()]
        .map((entry) => entry.part)
        .sort((a, b) => a.partNumber - b.partNumber);
    },

    async completeMultipart(key, uploadId, parts) {
      const pending = upload(key, uploadId);
      const chosen = parts.map((part, index) => {
        const stored = pending.parts.get(part.partNumber);
        if (!stored || stored.part.etag !== part.etag) {
          throw new WharfError("INVALID_ARGUMENT", `part ${part.partNumber} was not uploaded with that etag`);
        }
        if (index > 0 && part.partNumber <= parts[index - 1]!.partNumber) {
          throw new WharfError("INVALID_ARGUMENT", "parts must be listed in ascending order");
        }
        return stored;
      });
      if (chosen.length === 0) throw new WharfError("INVALID_ARGUMENT", "a multipart upload needs a part");
      checkConditions(key, pending.options);
      uploads.delete(uploadId);
      const { contentType, metadata } = pending.options;
      return store(key, Buffer.concat(chosen.map((entry) => entry.data)), {
        etag: multipartEtag(chosen.map((entry) => entry.part.etag)),
        metadata: { ...metadata },
        ...(contentType === undefined ? {} : { contentType }),
      });
    },

    async abortMultipart(_key, uploadId) {
      uploads.delete(uploadId);
    },

    async close() {},
  };
}
