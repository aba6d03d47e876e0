import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { WharfError } from "@wharf/errors";
import { checkBody, heedErrors, multipartEtag, toBufferOrReadable } from "../../body.ts";
import { validateKey, validatePrefix } from "../../keys.ts";
import { checkPartNumber } from "../../parts.ts";
import type { MultipartOperations, MultipartPart } from "../../types.ts";
import type { FsContext } from "./context.ts";
import { errno, translateFsError } from "./errors.ts";
import type { Conditions, Writes } from "./write.ts";

type UploadRecord = {
  readonly key: string;
  readonly contentType?: string;
  readonly metadata?: Record<string, string>;
} & Conditions;

const uploadIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const partFilePattern = /^(\d{5})\.([0-9a-f]{32})$/;

/**
 * Multipart uploads: a folder per upload under `.wharf-storage/uploads/<id>/` with the upload's
 * record (`upload.json`) and one file per part (`<number>.<etag>`); completion streams the parts
 * into a staged file and commits it as a put does.
 */
export function createMultipart(fs: FsContext, writes: Writes): MultipartOperations {
  const { durable, md5Etags, ready, uploadsDir } = fs;
  const { commit, etagOf, stage } = writes;

  async function readUpload(key: string, uploadId: string): Promise<UploadRecord> {
    const missing = new WharfError("NOT_FOUND", `no multipart upload ${uploadId} for ${key}`, {
      details: { key, uploadId },
    });
    if (!uploadIdPattern.test(uploadId)) throw missing;
    await ready();
    try {
      const record = JSON.parse(
        await readFile(join(uploadsDir, uploadId, "upload.json"), "utf8"),
      ) as UploadRecord;
      if (record.key !== key) throw missing;
      return record;
    } catch (error) {
      if (errno(error) === "ENOENT") throw missing;
      throw translateFsError(error, key);
    }
  }

  async function readParts(uploadId: string): Promise<MultipartPart[]> {
    const dir = join(uploadsDir, uploadId);
    const parts: MultipartPart[] = [];
    for (const name of await readdir(dir)) {
      const match = partFilePattern.exec(name);
      if (!match) continue;
      const size = await stat(join(dir, name)).then(
        (s) => s.size,
        () => undefined,
      );
      if (size !== undefined) parts.push({ partNumber: Number(match[1]), etag: match[2]!, size });
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  const partName = (part: { partNumber: number; etag: string }) =>
    `${String(part.partNumber).padStart(5, "0")}.${part.etag}`;

  return {
    async createMultipart(key, multipartOptions = {}) {
      validateKey(key);
      await ready();
      const uploadId = randomUUID();
      const record: UploadRecord = { key, ...multipartOptions };
      const { signal: _, ...serialisable } = record as UploadRecord & { signal?: unknown };
      try {
        await mkdir(join(uploadsDir, uploadId));
        await writeFile(join(uploadsDir, uploadId, "upload.json"), JSON.stringify(serialisable), {
          flush: durable,
        });
      } catch (error) {
        throw translateFsError(error, key);
      }
      return uploadId;
    },

    async uploadPart(key, uploadId, partNumber, body, partOptions = {}) {
      heedErrors(body);
      validateKey(key);
      checkPartNumber(partNumber);
      await readUpload(key, uploadId);
      const staged = await stage(toBufferOrReadable(body), partOptions.size, partOptions.signal);
      try {
        checkBody(staged, partOptions);
        const dir = join(uploadsDir, uploadId);
        const part: MultipartPart = { partNumber, etag: etagOf(staged), size: staged.size };
        await rename(staged.path, join(dir, partName(part)));
        for (const other of await readdir(dir)) {
          if (other.startsWith(`${partName(part).slice(0, 5)}.`) && other !== partName(part)) {
            await rm(join(dir, other), { force: true });
          }
        }
        return part;
      } catch (error) {
        if (errno(error) === "ENOENT") await readUpload(key, uploadId);
        throw translateFsError(error, key);
      } finally {
        await rm(staged.path, { force: true });
      }
    },

    async listParts(key, uploadId) {
      validateKey(key);
      await readUpload(key, uploadId);
      return readParts(uploadId).catch((error) => {
        throw translateFsError(error, key);
      });
    },

    async completeMultipart(key, uploadId, parts) {
      validateKey(key);
      const record = await readUpload(key, uploadId);
      if (parts.length === 0) throw new WharfError("INVALID_ARGUMENT", "a multipart upload needs a part");
      const dir = join(uploadsDir, uploadId);
      const uploaded = new Map((await readParts(uploadId)).map((part) => [part.partNumber, part]));
      parts.forEach((part, index) => {
        if (uploaded.get(part.partNumber)?.etag !== part.etag) {
          throw new WharfError("INVALID_ARGUMENT", `part ${part.partNumber} was not uploaded with that etag`);
        }
        if (index > 0 && part.partNumber <= parts[index - 1]!.partNumber) {
          throw new WharfError("INVALID_ARGUMENT", "parts must be listed in ascending order");
        }
      });
      const files = parts.map((part) => join(dir, partName(part)));
      const body = Readable.from(
        (async function* () {
          for (const file of files) yield* createReadStream(file);
        })(),
      );
      const staged = await stage(body, undefined, undefined, { flush: false });
      try {
        const info = await commit(
          key,
          staged,
          {
            etag: md5Etags ? multipartEtag(parts.map((part) => part.etag)) : fs.newVersion(),
            ...(staged.sha256 === undefined ? {} : { sha256: staged.sha256 }),
            ...(record.contentType === undefined ? {} : { contentType: record.contentType }),
            ...(record.metadata === undefined ? {} : { metadata: record.metadata }),
          },
          record,
        );
        await rm(dir, { recursive: true, force: true });
        return info;
      } catch (error) {
        await rm(staged.path, { force: true });
        throw error;
      }
    },

    async abortMultipart(key, uploadId) {
      validateKey(key);
      if (!uploadIdPattern.test(uploadId)) return;
      await rm(join(uploadsDir, uploadId), { recursive: true, force: true }).catch((error) => {
        throw translateFsError(error, key);
      });
    },

    async *listMultipartUploads(prefix = "") {
      if (prefix) validatePrefix(prefix);
      await ready();
      let ids: string[];
      try {
        ids = (await readdir(uploadsDir)).filter((id) => uploadIdPattern.test(id)).sort();
      } catch (error) {
        throw translateFsError(error);
      }
      for (const uploadId of ids) {
        const recordPath = join(uploadsDir, uploadId, "upload.json");
        // Gone meanwhile (completed or aborted), or not yet written: not pending.
        const found = await Promise.all([readFile(recordPath, "utf8"), stat(recordPath)]).catch(
          () => undefined,
        );
        if (!found) continue;
        let key: unknown;
        try {
          key = (JSON.parse(found[0]) as UploadRecord).key;
        } catch {
          continue;
        }
        if (typeof key === "string" && key.startsWith(prefix))
          yield { key, uploadId, initiated: found[1].mtime };
      }
    },
  };
}
