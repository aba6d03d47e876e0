import { createHash } from "node:crypto";
import { isWharfError, WharfError } from "@wharf/errors";
import { MAX_PARTS, type MultipartPart, type StorageDriver } from "@wharf/storage-driver";
import { readJson } from "./json-document.ts";
import type { Principal } from "./principal.ts";

/** What bitstore remembers about a multipart upload, in the store, so any process can serve it. */
export interface UploadSession {
  readonly uploadId: string;
  readonly key: string;
  readonly owner: string;
  readonly length: number;
  readonly md5: string;
  readonly type: string;
  readonly partSize: number;
  readonly partCount: number;
  readonly createdAt: string;
}

export interface SignedPart {
  readonly part_number: number;
  readonly url: string;
  /** Headers the client must send with the PUT. */
  readonly headers: Record<string, string>;
}

/** Presigns `PUT key?partNumber=&uploadId=` with the exact part length signed. */
export type PartSigner = (input: {
  key: string;
  uploadId: string;
  partNumber: number;
  size: number;
  md5?: string;
}) => SignedPart;

/**
 * The part size of an upload of `length` bytes: the configured one, or for an object too large for
 * `MAX_PARTS` parts of it, the smallest whole number of MiB that fits (S3 allows 10,000 parts).
 */
export function partSizeFor(length: number, configured: number): number {
  const MiB = 1024 * 1024;
  return Math.max(configured, Math.ceil(length / MAX_PARTS / MiB) * MiB);
}

/** Number and sizes of the parts of an object of `length` bytes. */
export function partLayout(
  length: number,
  partSize: number,
): { partCount: number; sizeOf: (n: number) => number } {
  const partCount = Math.max(1, Math.ceil(length / partSize));
  return {
    partCount,
    sizeOf: (n) => (n < partCount ? partSize : length - partSize * (partCount - 1)),
  };
}

/**
 * Multipart uploads bound to their caller and key: the session record (keyed by a hash of the
 * upload id) names both, and every call checks them before touching the store, so an upload id
 * from someone else, or used with another key, is refused with `PERMISSION_DENIED`.
 */
export function createMultipart(options: {
  driver: StorageDriver;
  statePrefix: string;
  partSize: number;
  signPart: PartSigner;
  now?: () => Date;
}) {
  const { driver } = options;
  const now = options.now ?? (() => new Date());
  const sessionKey = (uploadId: string) =>
    `${options.statePrefix}uploads/${createHash("sha256").update(uploadId).digest("hex")}.json`;

  async function load(principal: Principal, key: string, uploadId: string): Promise<UploadSession> {
    if (typeof uploadId !== "string" || uploadId === "" || typeof key !== "string") {
      throw new WharfError("INVALID_ARGUMENT", "key and upload_id are required");
    }
    const found = await readJson<UploadSession>(driver, sessionKey(uploadId));
    if (!found) throw new WharfError("NOT_FOUND", "no such multipart upload");
    const session = found.value;
    if (session.owner !== principal.userid || session.key !== key || session.uploadId !== uploadId) {
      throw new WharfError("PERMISSION_DENIED", "this upload belongs to another user or key", {
        details: { reason: "upload_not_yours" },
      });
    }
    return session;
  }

  return {
    /** Starts the upload in the store and records who may continue it. */
    async start(owner: string, file: { key: string; length: number; md5: string; type: string }) {
      const uploadId = await driver.createMultipart(file.key, {
        contentType: file.type,
        metadata: { "content-md5": file.md5 },
      });
      const partSize = partSizeFor(file.length, options.partSize);
      const { partCount } = partLayout(file.length, partSize);
      const session: UploadSession = {
        uploadId,
        key: file.key,
        owner,
        length: file.length,
        md5: file.md5,
        type: file.type,
        partSize,
        partCount,
        createdAt: now().toISOString(),
      };
      await driver.put(sessionKey(uploadId), JSON.stringify(session), {
        contentType: "application/json",
        ifNoneMatch: "*",
      });
      return session;
    },

    /** Presigned part URLs; each signs the exact part length (and Content-MD5 when given). */
    async sign(
      principal: Principal,
      key: string,
      uploadId: string,
      parts: readonly { part_number: number; md5?: string }[],
    ): Promise<SignedPart[]> {
      const session = await load(principal, key, uploadId);
      const layout = partLayout(session.length, session.partSize);
      return parts.map(({ part_number: n, md5 }) => {
        if (!Number.isInteger(n) || n < 1 || n > session.partCount) {
          throw new WharfError("INVALID_ARGUMENT", `part_number must be 1 … ${session.partCount}`);
        }
        return options.signPart({
          key,
          uploadId,
          partNumber: n,
          size: layout.sizeOf(n),
          ...(md5 ? { md5 } : {}),
        });
      });
    },

    async list(principal: Principal, key: string, uploadId: string) {
      const session = await load(principal, key, uploadId);
      return { session, parts: await driver.listParts(key, uploadId) };
    },

    /** Completes after checking every part is there with its exact size. */
    async complete(principal: Principal, key: string, uploadId: string, claimed?: readonly MultipartPart[]) {
      const session = await load(principal, key, uploadId);
      const stored = (await driver.listParts(key, uploadId)).sort((a, b) => a.partNumber - b.partNumber);
      const layout = partLayout(session.length, session.partSize);
      const complete =
        stored.length === session.partCount &&
        stored.every((p, i) => p.partNumber === i + 1 && p.size === layout.sizeOf(p.partNumber));
      if (!complete) {
        throw new WharfError("PRECONDITION_FAILED", "some parts are missing or have the wrong size", {
          details: { expectedParts: session.partCount, storedParts: stored.length },
        });
      }
      for (const part of claimed ?? []) {
        const match = stored[part.partNumber - 1];
        if (!match || match.etag.replace(/"/g, "") !== part.etag.replace(/"/g, "")) {
          throw new WharfError(
            "PRECONDITION_FAILED",
            `part ${part.partNumber} does not match what was stored`,
          );
        }
      }
      const info = await driver.completeMultipart(key, uploadId, stored);
      await driver.delete(sessionKey(uploadId));
      return { session, info };
    },

    /** Aborts and forgets the upload: nothing is left behind. Idempotent for the owner. */
    async abort(principal: Principal, key: string, uploadId: string) {
      const session = await load(principal, key, uploadId);
      try {
        await driver.abortMultipart(key, uploadId);
      } catch (error) {
        if (!isWharfError(error, "NOT_FOUND")) throw error;
      }
      await driver.delete(sessionKey(uploadId));
      return session;
    },
  };
}

export type Multipart = ReturnType<typeof createMultipart>;
