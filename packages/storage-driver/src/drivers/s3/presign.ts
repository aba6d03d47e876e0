import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { WharfError } from "@wharf/errors";
import { type AsyncPresigner, createPresigner } from "@wharf/s3-signing";
import { validateKey } from "../../keys.ts";
import type { PresignedRequest, StorageDriver } from "../../types.ts";
import { markers, type S3Context } from "./context.ts";
import { translateS3Error } from "./errors.ts";

/** `presign`: SigV4 presigned URLs; `contentType`, `contentLength` and `sha256` are signed headers of a PUT. */
export function createPresign(s3: S3Context): Pick<StorageDriver, "presign"> {
  const { bucket, client, full, options } = s3;
  let presigner: Promise<AsyncPresigner> | undefined;
  /** The hand-written SigV4 presigner of @wharf/s3-signing, fed by the client's credential chain. */
  function getPresigner(): Promise<AsyncPresigner> {
    presigner ??= (async () =>
      createPresigner({
        credentials: async () => client.config.credentials(),
        region: await client.config.region(),
      }))();
    return presigner;
  }

  return {
    async presign(key, presignOptions): Promise<PresignedRequest> {
      validateKey(key, markers);
      const { method, expiresIn } = presignOptions;
      if (!Number.isSafeInteger(expiresIn) || expiresIn < 1 || expiresIn > 604_800) {
        throw new WharfError("INVALID_ARGUMENT", "expiresIn must be 1 … 604800 seconds");
      }
      const headers: Record<string, string> = {};
      const signableHeaders = new Set<string>();
      let command: GetObjectCommand | HeadObjectCommand | PutObjectCommand;
      if (method === "PUT") {
        if (presignOptions.contentType !== undefined) {
          headers["content-type"] = presignOptions.contentType;
          signableHeaders.add("content-type");
        }
        if (presignOptions.contentLength !== undefined) {
          headers["content-length"] = String(presignOptions.contentLength);
          signableHeaders.add("content-length");
        }
        const checksum =
          presignOptions.sha256 && Buffer.from(presignOptions.sha256, "hex").toString("base64");
        if (checksum) {
          headers["x-amz-checksum-sha256"] = checksum;
          signableHeaders.add("x-amz-checksum-sha256");
        }
        command = new PutObjectCommand({
          Bucket: bucket,
          Key: full(key),
          ...(presignOptions.contentType === undefined ? {} : { ContentType: presignOptions.contentType }),
          ...(presignOptions.contentLength === undefined
            ? {}
            : { ContentLength: presignOptions.contentLength }),
          ...(checksum ? { ChecksumSHA256: checksum } : {}),
        });
      } else if (method === "GET") {
        command = new GetObjectCommand({
          Bucket: bucket,
          Key: full(key),
          ...(presignOptions.responseContentDisposition === undefined
            ? {}
            : { ResponseContentDisposition: presignOptions.responseContentDisposition }),
        });
      } else {
        command = new HeadObjectCommand({ Bucket: bucket, Key: full(key) });
      }
      try {
        const signedAt = Date.now();
        // An injected client may point anywhere: let the SDK presigner read its endpoint rules.
        const url = options.client
          ? await getSignedUrl(client as never, command as never, { expiresIn, signableHeaders })
          : await (await getPresigner()).presignUrl({
              method,
              url: {
                ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
                bucket,
                key: full(key),
                forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
              },
              expiresIn,
              headers,
              ...(method === "GET" && presignOptions.responseContentDisposition !== undefined
                ? { query: { "response-content-disposition": presignOptions.responseContentDisposition } }
                : {}),
              now: signedAt,
            });
        return { url, method, headers, expiresAt: new Date(signedAt + expiresIn * 1000) };
      } catch (error) {
        throw translateS3Error(error, key);
      }
    },
  };
}
