/**
 * The s3 driver's write path: `put` sends a string or bytes as one PutObject, and streams any other
 * body through lib-storage's `Upload` (one PutObject, or a multipart upload of `partSize` parts
 * with bounded memory), checking its size and sha256 on the way; conditional writes run under the
 * key's claim (`conditions.ts`). `delete` and `copy` (CopyObject) are here too.
 */
import { createHash } from "node:crypto";
import { pipeline } from "node:stream";
import { CopyObjectCommand, DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { WharfError } from "@wharf/errors";
import {
  bodyError,
  checkBody,
  checkPutOptions,
  DigestingStream,
  heedErrors,
  throwIfAborted,
  toReadable,
} from "../../body.ts";
import { validateKey } from "../../keys.ts";
import type { BodyInput, StorageDriver } from "../../types.ts";
import { type Conditions, unsupportedConditional } from "./conditions.ts";
import { markers, type S3Context } from "./context.ts";
import { s3ErrorCode, translateS3Error } from "./errors.ts";
import { encodeMetadata, SHA256_META, unquote } from "./metadata.ts";
import { multipartPartSize } from "./parts.ts";

export function createWrites(
  s3: S3Context,
  conditions: Conditions,
): Pick<StorageDriver, "put" | "delete" | "copy"> {
  const { bucket, client, full, head, maxParts, partSize, queueSize } = s3;
  const { claimingClient, conditionalError, guard, holdClaim, precheck } = conditions;
  return {
    async put(key, body: BodyInput, putOptions = {}) {
      heedErrors(body);
      validateKey(key, markers);
      checkPutOptions(putOptions);
      guard(key, putOptions);
      throwIfAborted(putOptions.signal);
      const conditional = putOptions.ifMatch !== undefined || putOptions.ifNoneMatch !== undefined;
      const params = {
        Bucket: bucket,
        Key: full(key),
        ...(putOptions.contentType === undefined ? {} : { ContentType: putOptions.contentType }),
        ...(putOptions.ifNoneMatch === undefined ? {} : { IfNoneMatch: "*" }),
        // Ceph 16 answers 412 to a quoted If-Match on PUT; the unquoted etag works everywhere tested.
        ...(putOptions.ifMatch === undefined ? {} : { IfMatch: putOptions.ifMatch }),
      };
      try {
        if (typeof body === "string" || body instanceof Uint8Array) {
          const data =
            typeof body === "string"
              ? Buffer.from(body)
              : Buffer.from(body.buffer, body.byteOffset, body.length);
          const sha256 = createHash("sha256").update(data).digest("hex");
          checkBody({ size: data.length, sha256 }, putOptions);
          const send = () =>
            client.send(
              new PutObjectCommand({
                ...params,
                Body: data,
                ContentLength: data.length,
                ContentMD5: createHash("md5").update(data).digest("base64"),
                Metadata: { ...encodeMetadata(putOptions.metadata), [SHA256_META]: sha256 },
              }),
              putOptions.signal ? { abortSignal: putOptions.signal } : {},
            );
          // The header is atomic; the claim keeps a concurrent multipart completion out of the way.
          const output = conditional ? await holdClaim(key, send, putOptions.signal) : await send();
          return {
            key,
            size: data.length,
            etag: unquote(output.ETag),
            lastModified: new Date(),
            metadata: { ...putOptions.metadata },
            sha256,
            ...(putOptions.contentType === undefined ? {} : { contentType: putOptions.contentType }),
          };
        }
        // Fail fast before uploading; the atomic check happens under the claim (see claimingClient).
        if (conditional) await precheck(key, putOptions);
        const verify = {
          ...(putOptions.size === undefined ? {} : { size: putOptions.size }),
          ...(putOptions.sha256 === undefined ? {} : { sha256: putOptions.sha256 }),
        };
        const digest = new DigestingStream({
          ...(putOptions.size === undefined ? {} : { limit: putOptions.size }),
          verify,
        });
        const source = toReadable(body);
        // The Upload reads `digest` and rejects with its error; the pipeline hears both streams.
        pipeline(source, digest, () => {});
        const abortController = new AbortController();
        const onAbort = () => abortController.abort(putOptions.signal?.reason);
        putOptions.signal?.addEventListener("abort", onAbort, { once: true });
        const metadata = {
          ...encodeMetadata(putOptions.metadata),
          ...(putOptions.sha256 ? { [SHA256_META]: putOptions.sha256.toLowerCase() } : {}),
        };
        try {
          await new Upload({
            client: conditional ? claimingClient(key, putOptions, putOptions.signal) : client,
            params: { ...params, Body: digest, Metadata: metadata },
            partSize: multipartPartSize(partSize, putOptions.size, maxParts),
            queueSize,
            leavePartsOnError: false,
            abortController,
          }).done();
        } catch (error) {
          source.destroy();
          if (putOptions.signal?.aborted) throw bodyError(error, putOptions.signal);
          if (error instanceof WharfError) throw error;
          if (s3ErrorCode(error) === "INTERNAL") throw bodyError(error, putOptions.signal);
          throw error;
        } finally {
          putOptions.signal?.removeEventListener("abort", onAbort);
        }
        // Ceph returns an empty etag from CompleteMultipartUpload: read the real one.
        return await head(key);
      } catch (error) {
        throw conditionalError(error, key, conditional);
      }
    },

    async delete(key) {
      validateKey(key, markers);
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: full(key) }));
      } catch (error) {
        const translated = translateS3Error(error, key);
        if (translated.code !== "NOT_FOUND") throw translated;
      }
    },

    async copy(sourceKey, destinationKey, copyOptions = {}) {
      validateKey(sourceKey, markers);
      validateKey(destinationKey, markers);
      guard(destinationKey, copyOptions);
      const source = await head(sourceKey);
      const replace = copyOptions.metadata !== undefined || copyOptions.contentType !== undefined;
      const contentType = copyOptions.contentType ?? source.contentType;
      const send = () =>
        client.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: full(destinationKey),
            CopySource: `${bucket}/${full(sourceKey).split("/").map(encodeURIComponent).join("/")}`,
            CopySourceIfMatch: `"${source.etag}"`,
            ...(copyOptions.ifNoneMatch ? { IfNoneMatch: "*" } : {}),
            ...(replace
              ? {
                  MetadataDirective: "REPLACE",
                  Metadata: {
                    ...encodeMetadata(copyOptions.metadata ?? source.metadata),
                    ...(source.sha256 === undefined ? {} : { [SHA256_META]: source.sha256 }),
                  },
                  ...(contentType === undefined ? {} : { ContentType: contentType }),
                }
              : {}),
          }),
        );
      try {
        // Ceph 16 ignores If-None-Match on CopyObject: check under the destination's claim.
        if (copyOptions.ifNoneMatch) {
          await holdClaim(destinationKey, async () => {
            await precheck(destinationKey, { ifNoneMatch: "*" });
            await send();
          });
        } else {
          await send();
        }
      } catch (error) {
        const translated = translateS3Error(error, sourceKey);
        throw copyOptions.ifNoneMatch ? unsupportedConditional(translated, destinationKey) : translated;
      }
      return head(destinationKey);
    },
  };
}
