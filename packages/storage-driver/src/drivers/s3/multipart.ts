import { createHash } from "node:crypto";
import { finished } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListPartsCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { WharfError } from "@wharf/errors";
import { bodyError, checkBody, checkPutOptions, heedErrors, readAll, toReadable } from "../../body.ts";
import { validateKey, validatePrefix } from "../../keys.ts";
import { checkPartNumber } from "../../parts.ts";
import type { MultipartOperations, MultipartPart } from "../../types.ts";
import { type Conditions, unsupportedConditional } from "./conditions.ts";
import { markers, type S3Context } from "./context.ts";
import { translateS3Error } from "./errors.ts";
import { encodeMetadata, unquote } from "./metadata.ts";
import { decodeUploadId, encodeUploadId } from "./parts.ts";

/**
 * Multipart uploads are S3's own; the conditions of a conditional one travel in the upload id
 * (`parts.ts`) and are checked at completion under the key's claim.
 */
export function createMultipart(s3: S3Context, conditions: Conditions): MultipartOperations {
  const { bucket, client, full, head, prefix } = s3;
  const { conditionalError, guard, holdClaim, precheck } = conditions;
  return {
    async createMultipart(key, multipartOptions = {}) {
      validateKey(key, markers);
      checkPutOptions(multipartOptions);
      guard(key, multipartOptions);
      // Before the upload exists: an ifMatch the id cannot carry would leave it behind.
      encodeUploadId("", multipartOptions);
      try {
        const output = await client.send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: full(key),
            ...(multipartOptions.contentType === undefined
              ? {}
              : { ContentType: multipartOptions.contentType }),
            ...(multipartOptions.metadata === undefined
              ? {}
              : { Metadata: encodeMetadata(multipartOptions.metadata) }),
          }),
        );
        return encodeUploadId(output.UploadId ?? "", multipartOptions);
      } catch (error) {
        throw translateS3Error(error, key);
      }
    },

    async uploadPart(key, uploadId, partNumber, body, partOptions = {}) {
      heedErrors(body);
      validateKey(key, markers);
      checkPartNumber(partNumber);
      // A part needs a Content-Length: buffer it unless its size is declared. A buffer passed in is
      // sent as it is (no copy): the caller keeps it until this call returns.
      const known = typeof body === "string" || body instanceof Uint8Array || partOptions.size === undefined;
      const data = known
        ? await readAll(body, { maxBytes: 64 * 1024 * 1024, copy: false }).catch((error) => {
            throw bodyError(error, partOptions.signal);
          })
        : undefined;
      if (data && partOptions.size !== undefined)
        checkBody({ size: data.length, sha256: "" }, { size: partOptions.size });
      // The SDK pipes a stream body into the request and would wait forever for one that failed:
      // a failure (or an abort of `signal`) aborts the request.
      const source = data ? undefined : toReadable(body);
      const abort = new AbortController();
      const onAbort = () => abort.abort(partOptions.signal?.reason);
      partOptions.signal?.addEventListener("abort", onAbort, { once: true });
      const unwatch = source ? finished(source, (error) => error && abort.abort(error)) : undefined;
      try {
        const output = await client.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: full(key),
            UploadId: decodeUploadId(uploadId).id,
            PartNumber: partNumber,
            Body: data ?? source,
            ContentLength: data?.length ?? partOptions.size,
            ...(data ? { ContentMD5: createHash("md5").update(data).digest("base64") } : {}),
          }),
          { abortSignal: abort.signal },
        );
        return { partNumber, etag: unquote(output.ETag), size: data?.length ?? partOptions.size ?? 0 };
      } catch (error) {
        if (abort.signal.aborted) {
          source?.destroy();
          throw bodyError(partOptions.signal?.aborted ? error : abort.signal.reason, partOptions.signal);
        }
        throw translateS3Error(error, key);
      } finally {
        unwatch?.();
        partOptions.signal?.removeEventListener("abort", onAbort);
      }
    },

    async *listMultipartUploads(listPrefix = "") {
      if (listPrefix) validatePrefix(listPrefix);
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      do {
        let output: ListMultipartUploadsCommandOutput;
        try {
          output = await client.send(
            new ListMultipartUploadsCommand({
              Bucket: bucket,
              Prefix: full(listPrefix),
              ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
              ...(uploadIdMarker === undefined ? {} : { UploadIdMarker: uploadIdMarker }),
            }),
          );
        } catch (error) {
          throw translateS3Error(error);
        }
        for (const upload of output.Uploads ?? []) {
          if (!upload.Key?.startsWith(prefix) || !upload.UploadId) continue;
          yield {
            key: upload.Key.slice(prefix.length),
            uploadId: upload.UploadId,
            initiated: upload.Initiated ?? new Date(0),
          };
        }
        keyMarker = output.IsTruncated ? output.NextKeyMarker : undefined;
        uploadIdMarker = output.IsTruncated ? output.NextUploadIdMarker : undefined;
      } while (keyMarker !== undefined);
    },

    async listParts(key, uploadId) {
      validateKey(key, markers);
      const parts: MultipartPart[] = [];
      let marker: string | undefined;
      try {
        do {
          const output = await client.send(
            new ListPartsCommand({
              Bucket: bucket,
              Key: full(key),
              UploadId: decodeUploadId(uploadId).id,
              ...(marker === undefined ? {} : { PartNumberMarker: marker }),
            }),
          );
          for (const part of output.Parts ?? []) {
            parts.push({ partNumber: part.PartNumber ?? 0, etag: unquote(part.ETag), size: part.Size ?? 0 });
          }
          marker = output.IsTruncated ? output.NextPartNumberMarker : undefined;
        } while (marker !== undefined);
      } catch (error) {
        throw translateS3Error(error, key);
      }
      return parts;
    },

    async completeMultipart(key, uploadId, parts) {
      validateKey(key, markers);
      const { id, ...conditions } = decodeUploadId(uploadId);
      const conditional = conditions.ifMatch !== undefined || conditions.ifNoneMatch !== undefined;
      if (parts.length === 0) throw new WharfError("INVALID_ARGUMENT", "a multipart upload needs a part");
      const complete = () =>
        client.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: full(key),
            UploadId: id,
            MultipartUpload: {
              Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: `"${part.etag}"` })),
            },
            ...(conditions.ifNoneMatch ? { IfNoneMatch: "*" } : {}),
            ...(conditions.ifMatch === undefined ? {} : { IfMatch: conditions.ifMatch }),
          }),
        );
      try {
        // Ceph 16 ignores the condition headers on Complete: check with HEAD under the key's claim.
        if (conditional) {
          await holdClaim(key, async () => {
            await precheck(key, conditions);
            await complete();
          });
        } else {
          await complete();
        }
        return await head(key);
      } catch (error) {
        const translated = conditionalError(error, key, false);
        throw conditional ? unsupportedConditional(translated, key) : translated;
      }
    },

    async abortMultipart(key, uploadId) {
      validateKey(key, markers);
      try {
        await client.send(
          new AbortMultipartUploadCommand({
            Bucket: bucket,
            Key: full(key),
            UploadId: decodeUploadId(uploadId).id,
          }),
        );
      } catch (error) {
        const translated = translateS3Error(error, key);
        if (translated.code !== "NOT_FOUND") throw translated;
      }
    },
  };
}
