import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { Credentials, PresignUrlInput } from "../src/index.ts";

/** One presigned-URL request, expressible both to the SDK and to our presigner. */
export interface UrlCase {
  readonly name: string;
  readonly operation: "GetObject" | "PutObject" | "HeadObject" | "DeleteObject" | "UploadPart";
  readonly key: string;
  readonly bucket?: string;
  readonly region?: string;
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
  readonly sessionToken?: string;
  readonly expiresIn?: number;
  readonly contentType?: string;
  readonly contentLength?: number;
  /** Base64 SHA-256, sent as `x-amz-checksum-sha256`. */
  readonly checksumSha256?: string;
  /** Sign content-type/content-length as headers (the SDK's `signableHeaders`). */
  readonly signContentHeaders?: boolean;
  /** Keep x-amz-checksum-sha256 a signed header (`unhoistableHeaders`) instead of a query parameter. */
  readonly signChecksumHeader?: boolean;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly responseContentDisposition?: string;
  readonly uploadPart?: { readonly uploadId: string; readonly partNumber: number };
}

export const urlCases: readonly UrlCase[] = [
  { name: "GET, plain key", operation: "GetObject", key: "plain.txt" },
  { name: "GET, unicode key", operation: "GetObject", key: "dossier/été/日本語 ü.txt" },
  { name: "GET, reserved characters", operation: "GetObject", key: "a b+c~d/!'()*@$,;:=&?#[]%25.txt" },
  { name: "GET, dot and empty segments", operation: "GetObject", key: "dir//x/./y/../z" },
  { name: "GET, leading slash", operation: "GetObject", key: "/rooted" },
  { name: "GET, one-second expiry", operation: "GetObject", key: "k", expiresIn: 1 },
  { name: "GET, one-week expiry", operation: "GetObject", key: "k", expiresIn: 604_800 },
  { name: "GET, session token", operation: "GetObject", key: "k", sessionToken: "FQoG/Zv+token==" },
  {
    name: "GET, response-content-disposition",
    operation: "GetObject",
    key: "report.pdf",
    responseContentDisposition: 'attachment; filename="r port.pdf"',
  },
  { name: "HEAD", operation: "HeadObject", key: "k" },
  { name: "DELETE", operation: "DeleteObject", key: "k" },
  { name: "PUT, host only", operation: "PutObject", key: "up load/ü.bin" },
  {
    name: "PUT, signed content-type and content-length",
    operation: "PutObject",
    key: "typed.csv",
    contentType: "text/csv; charset=utf-8",
    contentLength: 11,
    signContentHeaders: true,
  },
  {
    name: "PUT, signed checksum header",
    operation: "PutObject",
    key: "sum.bin",
    checksumSha256: "qUiQTy8PR5uPgZdpSzAYSw0u0cHNKh7A+4XSmaGSpEc=",
    signChecksumHeader: true,
  },
  {
    name: "PUT, hoisted checksum",
    operation: "PutObject",
    key: "sum.bin",
    checksumSha256: "qUiQTy8PR5uPgZdpSzAYSw0u0cHNKh7A+4XSmaGSpEc=",
  },
  { name: "PUT, hoisted metadata", operation: "PutObject", key: "meta", metadata: { owner: "alice b" } },
  {
    name: "PUT, session token and every signed header",
    operation: "PutObject",
    key: "all/ü",
    sessionToken: "tok/en+=",
    contentType: "application/octet-stream",
    contentLength: 3,
    checksumSha256: "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
    signContentHeaders: true,
    signChecksumHeader: true,
  },
  {
    name: "PUT, upload part",
    operation: "UploadPart",
    key: "big",
    uploadPart: { uploadId: "2~abc/def+g", partNumber: 3 },
  },
];

/** Variations of where the bucket is, applied on top of each case for the SDK comparison. */
export const locations = [
  {
    name: "path-style custom endpoint",
    endpoint: "http://127.0.0.1:7480",
    forcePathStyle: true,
    region: "us-east-1",
  },
  {
    name: "path-style endpoint with base path",
    endpoint: "https://s3.example.com/base/",
    forcePathStyle: true,
    region: "eu-west-1",
  },
  {
    name: "virtual-hosted custom endpoint",
    endpoint: "https://storage.example.com:8443",
    region: "us-west-2",
  },
  { name: "IP endpoint without forcePathStyle", endpoint: "http://10.0.0.1:9000", region: "us-east-1" },
  { name: "AWS default endpoint", region: "eu-central-1" },
  { name: "AWS default endpoint, bucket with dots", region: "us-east-1", bucket: "my.dotted.bucket" },
] as const;

export interface ResolvedCase extends UrlCase {
  readonly bucket: string;
  readonly region: string;
}

export function sdkClient(c: ResolvedCase, credentials: Credentials): S3Client {
  return new S3Client({
    region: c.region,
    credentials: { ...credentials, ...(c.sessionToken !== undefined && { sessionToken: c.sessionToken }) },
    ...(c.endpoint !== undefined && { endpoint: c.endpoint }),
    forcePathStyle: c.forcePathStyle ?? false,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

export async function sdkPresign(client: S3Client, c: ResolvedCase, signingDate: Date): Promise<string> {
  const base = { Bucket: c.bucket, Key: c.key };
  const put = {
    ...base,
    ...(c.contentType !== undefined && { ContentType: c.contentType }),
    ...(c.contentLength !== undefined && { ContentLength: c.contentLength }),
    ...(c.checksumSha256 !== undefined && { ChecksumSHA256: c.checksumSha256 }),
    ...(c.metadata !== undefined && { Metadata: { ...c.metadata } }),
  };
  const command =
    c.operation === "GetObject"
      ? new GetObjectCommand({
          ...base,
          ...(c.responseContentDisposition !== undefined && {
            ResponseContentDisposition: c.responseContentDisposition,
          }),
        })
      : c.operation === "HeadObject"
        ? new HeadObjectCommand(base)
        : c.operation === "DeleteObject"
          ? new DeleteObjectCommand(base)
          : c.operation === "UploadPart"
            ? new UploadPartCommand({
                ...base,
                UploadId: c.uploadPart?.uploadId,
                PartNumber: c.uploadPart?.partNumber,
              })
            : new PutObjectCommand(put);
  return getSignedUrl(client, command as GetObjectCommand, {
    signingDate,
    ...(c.expiresIn !== undefined && { expiresIn: c.expiresIn }),
    ...(c.signContentHeaders && { signableHeaders: new Set(["content-type", "content-length"]) }),
    ...(c.signChecksumHeader && { unhoistableHeaders: new Set(["x-amz-checksum-sha256"]) }),
  });
}

const methods = {
  GetObject: "GET",
  PutObject: "PUT",
  HeadObject: "HEAD",
  DeleteObject: "DELETE",
  UploadPart: "PUT",
};

/** The same request for our presigner, plus the headers a client must then send. */
export function ourInput(c: ResolvedCase, now: Date): PresignUrlInput & { headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  const query: Record<string, string> = {};
  if (c.signContentHeaders && c.contentType !== undefined) headers["content-type"] = c.contentType;
  if (c.signContentHeaders && c.contentLength !== undefined)
    headers["content-length"] = String(c.contentLength);
  if (c.checksumSha256 !== undefined) {
    if (c.signChecksumHeader) headers["x-amz-checksum-sha256"] = c.checksumSha256;
    else query["x-amz-checksum-sha256"] = c.checksumSha256;
  }
  for (const [name, value] of Object.entries(c.metadata ?? {})) query[`x-amz-meta-${name}`] = value;
  if (c.responseContentDisposition !== undefined)
    query["response-content-disposition"] = c.responseContentDisposition;
  if (c.uploadPart !== undefined) {
    query.partNumber = String(c.uploadPart.partNumber);
    query.uploadId = c.uploadPart.uploadId;
  }
  return {
    method: methods[c.operation],
    url: {
      bucket: c.bucket,
      key: c.key,
      ...(c.endpoint !== undefined && { endpoint: c.endpoint }),
      ...(c.forcePathStyle !== undefined && { forcePathStyle: c.forcePathStyle }),
    },
    ...(c.expiresIn !== undefined && { expiresIn: c.expiresIn }),
    headers,
    ...(Object.keys(query).length > 0 && { query }),
    now,
  };
}
