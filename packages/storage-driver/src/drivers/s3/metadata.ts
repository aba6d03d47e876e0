import type { HeadObjectCommandOutput } from "@aws-sdk/client-s3";
import type { ObjectInfo } from "../../types.ts";

/** User-metadata entry where the driver records a verified sha256; hidden from `metadata`. */
export const SHA256_META = "wharf-sha256";

/** An S3 etag without its quotes (and weak marker). */
export const unquote = (etag: string | undefined) => (etag ?? "").replace(/^(W\/)?"|"$/g, "");

const encodedWord = /^=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=$/;

/** Header values must be printable ASCII: others travel as RFC 2047 encoded words (as AWS does). */
export function encodeMetadata(
  metadata: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const encoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata ?? {})) {
    encoded[name.toLowerCase()] =
      /^[\x20-\x7e]*$/.test(value) && !encodedWord.test(value)
        ? value
        : `=?UTF-8?B?${Buffer.from(value, "utf8").toString("base64")}?=`;
  }
  return encoded;
}

/** User metadata as stored: names lower-cased, encoded words decoded, the recorded sha256 apart. */
export function userMetadata(raw: Record<string, string> | undefined): {
  metadata: Record<string, string>;
  sha256?: string;
} {
  const metadata: Record<string, string> = {};
  let sha256: string | undefined;
  for (const [name, value] of Object.entries(raw ?? {})) {
    const word = encodedWord.exec(value);
    if (name.toLowerCase() === SHA256_META) sha256 = value;
    else metadata[name.toLowerCase()] = word ? Buffer.from(word[1]!, "base64").toString("utf8") : value;
  }
  return sha256 === undefined ? { metadata } : { metadata, sha256 };
}

/** The object described by a HEAD (or GET) response. */
export function toInfo(key: string, output: HeadObjectCommandOutput, size?: number): ObjectInfo {
  const { metadata, sha256 } = userMetadata(output.Metadata);
  const encryption = output.SSECustomerAlgorithm
    ? `SSE-C:${output.SSECustomerAlgorithm}`
    : output.ServerSideEncryption;
  return {
    key,
    size: size ?? output.ContentLength ?? 0,
    etag: unquote(output.ETag),
    lastModified: output.LastModified ?? new Date(0),
    metadata,
    ...(output.ContentType === undefined ? {} : { contentType: output.ContentType }),
    ...(sha256 === undefined ? {} : { sha256 }),
    ...(encryption === undefined ? {} : { encryption }),
  };
}
