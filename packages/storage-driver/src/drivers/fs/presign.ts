import { WharfError } from "@wharf/errors";
import { createPresigner, escapeKeyPath } from "@wharf/s3-signing";
import { validateKey } from "../../keys.ts";
import type { StorageDriver } from "../../types.ts";
import type { FsPresignOptions } from "./fs.ts";

/**
 * `presign`: URLs signed as S3 presigned URLs that point at the app's own route (`baseUrl`), which
 * `handlePresignedRequest` checks and serves.
 */
export function createPresign(options: {
  readonly presign?: FsPresignOptions;
}): Pick<StorageDriver, "presign"> {
  const presigner = options.presign
    ? createPresigner({
        credentials: options.presign.credentials,
        region: options.presign.region ?? "us-east-1",
      })
    : undefined;

  return {
    async presign(key, presignOptions) {
      validateKey(key);
      if (!presigner || !options.presign) {
        throw new WharfError(
          "UNSUPPORTED",
          "this fs driver was created without presign options (capability presign)",
          { details: { capability: "presign" } },
        );
      }
      const { method, expiresIn } = presignOptions;
      if (!Number.isSafeInteger(expiresIn) || expiresIn < 1 || expiresIn > 604_800) {
        throw new WharfError("INVALID_ARGUMENT", "expiresIn must be 1 … 604800 seconds");
      }
      const headers: Record<string, string> = {};
      if (method === "PUT" && presignOptions.contentType !== undefined)
        headers["content-type"] = presignOptions.contentType;
      if (method === "PUT" && presignOptions.contentLength !== undefined) {
        headers["content-length"] = String(presignOptions.contentLength);
      }
      if (method === "PUT" && presignOptions.sha256 !== undefined) {
        headers["x-amz-checksum-sha256"] = Buffer.from(presignOptions.sha256, "hex").toString("base64");
      }
      const query: Record<string, string> = {};
      if (method === "GET" && presignOptions.responseContentDisposition !== undefined) {
        query["response-content-disposition"] = presignOptions.responseContentDisposition;
      }
      const signedAt = Date.now();
      const url = presigner.presignUrl({
        method,
        url: `${options.presign.baseUrl.replace(/\/$/, "")}/${escapeKeyPath(key)}`,
        expiresIn,
        headers,
        query,
        now: signedAt,
      });
      return { url, method, headers, expiresAt: new Date(signedAt + expiresIn * 1000) };
    },
  };
}
