import type { Readable } from "node:stream";

/**
 * What a driver can do: everything an app may branch on (apps never read a driver's `name`). Static
 * per driver, except where stores differ (S3 implementations do): the s3 driver probes those at
 * open, and its URL can state them. The conformance suite checks both sides of each flag: declared
 * works; undeclared answers `UNSUPPORTED` with a message naming the capability. The table in this
 * package's README says which driver declares what.
 */
export interface Capabilities {
  /** `get` honours `range`. */
  readonly rangeRead: boolean;
  /**
   * `put`, `copy` and `createMultipart` honour `ifNoneMatch: "*"` and `ifMatch` atomically; without
   * it they reject both options with `UNSUPPORTED` (message naming `conditionalWrite`), and shared
   * state cannot be guarded against concurrent writers.
   */
  readonly conditionalWrite: boolean;
  /** `presign` returns URLs a client can use without credentials. */
  readonly presign: boolean;
  /**
   * The store itself accepts browser POST uploads (HTML forms with a SigV4 POST policy, as
   * `@wharf/s3-signing`'s `createPresignedPost` signs them) at its bucket URL.
   */
  readonly presignedPost: boolean;
  /** `createMultipart` and friends work. */
  readonly multipart: boolean;
  /** With `multipart`: the store's part limits (S3: 5 MiB … 5 GiB, 10,000 parts). */
  readonly multipartLimits?: MultipartLimits;
  /**
   * Bytes a writer that can buffer should hand the driver at a time, or 0 when the driver takes a
   * stream as it comes. The s3 driver sends every part with its length, so writers that hold many
   * uploads at once (the FTP gateway) buffer parts of this size in a shared budget.
   */
  readonly preferredWriteBufferBytes: number;
  /** `rename` and `renamePrefix` move objects and folders atomically (else they are `UNSUPPORTED`; see `moveObject`). */
  readonly rename: boolean;
  /** Keys may end with one `/` (S3 folder markers such as `photos/`); otherwise they are `INVALID_ARGUMENT`. */
  readonly folderMarkers: boolean;
  /**
   * Etags are content digests as S3 computes them: the body's md5 (hex), or after a multipart upload
   * the md5 of the parts' md5s with `-<parts>` (an S3 object under SSE-KMS or SSE-C excepted: see
   * `ObjectInfo.encryption`). Otherwise an etag is an opaque version id.
   */
  readonly md5Etags: boolean;
}

export interface MultipartLimits {
  /** Smallest part but the last. */
  readonly minPartBytes: number;
  readonly maxPartBytes: number;
  readonly maxParts: number;
}

/** The names of the boolean capabilities, for suites and start-up checks that walk them all. */
export const booleanCapabilities = [
  "rangeRead",
  "conditionalWrite",
  "presign",
  "presignedPost",
  "multipart",
  "rename",
  "folderMarkers",
  "md5Etags",
] as const satisfies readonly (keyof Capabilities)[];

/** A capability that is simply declared or not. */
export type BooleanCapability = (typeof booleanCapabilities)[number];

/** A stored object's description. `etag` is opaque and unquoted. */
export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: Date;
  readonly contentType?: string;
  /** User metadata; keys lower-case ASCII. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Hex sha256 of the body, when the driver recorded or verified it. */
  readonly sha256?: string;
  /**
   * Server-side encryption the store reports for the object (S3 only): `AES256` (SSE-S3),
   * `aws:kms`, `aws:kms:dsse`, or `SSE-C:<algorithm>` for a customer-provided key. S3's ETag is the
   * body's md5 only for unencrypted and SSE-S3 objects.
   */
  readonly encryption?: string;
}

/** Inclusive byte range as in HTTP: `{ start: 0, end: 99 }` is the first 100 bytes; `{ suffix: 50 }` the last 50. */
export type ByteRange = { readonly start: number; readonly end?: number } | { readonly suffix: number };

export type BodyInput = Readable | AsyncIterable<Uint8Array> | Uint8Array | string;

/**
 * A body that can put its bytes straight into memory the driver hands it, instead of yielding chunks
 * of its own: an FTP data connection read with Node's `onread` fills the driver's write buffers with
 * no buffer per socket read. A Readable that also has `fill`: the fs driver uses `fill`, the others
 * read it as a stream. Never both on one body.
 */
export interface FillableBody {
  /**
   * Reads into `target` from `offset` until it is full or the body ends; resolves with the bytes
   * added (fewer than asked only at the end, 0 once it has ended). One fill at a time.
   */
  fill(target: Buffer, offset: number): Promise<number>;
}

export interface GetOptions {
  readonly range?: ByteRange;
  /** Fail with `PRECONDITION_FAILED` unless the current etag equals this one. */
  readonly ifMatch?: string;
  /** Aborting destroys the body: a reader gets an `AbortError`, and no reader is needed for it to be heard. */
  readonly signal?: AbortSignal;
}

export interface GetResult {
  readonly info: ObjectInfo;
  readonly body: Readable;
  /** Present when a range was requested: the bytes actually returned, inclusive. */
  readonly range?: { readonly start: number; readonly end: number; readonly total: number };
}

export interface PutOptions {
  /** Exact body length when known; a body of another length fails with `INVALID_ARGUMENT`. */
  readonly size?: number;
  readonly contentType?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  /** Hex sha256 the body must have, else `CHECKSUM_MISMATCH` and nothing becomes visible. */
  readonly sha256?: string;
  /**
   * `false`: verify `sha256` without asking the driver to record it for later `head`s, for keys
   * that already name their content (Git LFS objects). The fs driver in `"version"` etag mode then
   * keeps no sidecar for the object; drivers that record it anyway (s3, memory) still report it.
   */
  readonly recordSha256?: boolean;
  /** `"*"`: create only; fails with `PRECONDITION_FAILED` when the key exists. */
  readonly ifNoneMatch?: "*";
  /** Replace only if the current etag equals this one, else `PRECONDITION_FAILED`. */
  readonly ifMatch?: string;
  readonly signal?: AbortSignal;
}

export interface ListOptions {
  readonly prefix?: string;
  /** Usually `/`: keys below the next delimiter are rolled up into `prefixes`. */
  readonly delimiter?: string;
  /** Opaque cursor from a previous page. */
  readonly cursor?: string;
  /** Only keys strictly after this one (UTF-8 byte order). */
  readonly startAfter?: string;
  /** Upper bound on objects + prefixes in the page; drivers may return fewer. Default 1000. */
  readonly limit?: number;
  readonly signal?: AbortSignal;
}

export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: Date;
}

export interface ListPage {
  /** Objects in UTF-8 byte order of their keys. */
  readonly objects: readonly ListedObject[];
  /** Common prefixes (each ends with the delimiter), in byte order. */
  readonly prefixes: readonly string[];
  /** Present when more entries follow. */
  readonly cursor?: string;
}

export interface CopyOptions {
  readonly ifNoneMatch?: "*";
  /** Replace the metadata instead of copying it. */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly contentType?: string;
}

export interface RenameOptions {
  /** `"*"`: fail with `PRECONDITION_FAILED` when the destination exists, instead of replacing it. */
  readonly ifNoneMatch?: "*";
}

export interface PresignOptions {
  readonly method: "GET" | "PUT" | "HEAD";
  /** Seconds, 1 … 604800. */
  readonly expiresIn: number;
  /** PUT: the Content-Type the client must send (signed). */
  readonly contentType?: string;
  /** PUT: the Content-Length the client must send (signed). */
  readonly contentLength?: number;
  /** PUT: hex sha256 the store must enforce, where it can (`x-amz-checksum-sha256`). */
  readonly sha256?: string;
  /** GET: response Content-Disposition override. */
  readonly responseContentDisposition?: string;
}

export interface PresignedRequest {
  readonly url: string;
  readonly method: "GET" | "PUT" | "HEAD";
  /** Headers the client must send exactly as given. */
  readonly headers: Readonly<Record<string, string>>;
  readonly expiresAt: Date;
}

export interface MultipartPart {
  readonly partNumber: number;
  readonly etag: string;
  readonly size: number;
}

/** A multipart upload neither completed nor aborted. */
export interface PendingMultipart {
  readonly key: string;
  /** The store's id: good for `abortMultipart` and `listParts` (conditions given at create are not carried). */
  readonly uploadId: string;
  readonly initiated: Date;
}

/**
 * One storage backend. Keys are validated before a driver sees them (see `validateKey`); drivers
 * still refuse anything that would escape their root. Every method rejects only with `WharfError`:
 * `NOT_FOUND`, `PRECONDITION_FAILED`, `CHECKSUM_MISMATCH`, `INVALID_ARGUMENT`, `UNSUPPORTED`,
 * `UNAVAILABLE` (backend unreachable), `PERMISSION_DENIED` (backend refused our credentials),
 * `CANCELLED` (signal aborted) or `INTERNAL`.
 */
/** The multipart half of a driver, which each remote or disk driver builds in its own `multipart.ts`. */
export type MultipartOperations = Pick<
  StorageDriver,
  | "createMultipart"
  | "uploadPart"
  | "listParts"
  | "completeMultipart"
  | "abortMultipart"
  | "listMultipartUploads"
>;

export interface StorageDriver {
  readonly name: string;
  readonly capabilities: Capabilities;

  /** Rejects with `NOT_FOUND` when absent. */
  head(key: string): Promise<ObjectInfo>;
  /** Streams the body. `NOT_FOUND`; `RANGE_NOT_SATISFIABLE`; `PRECONDITION_FAILED` for `ifMatch`. */
  get(key: string, options?: GetOptions): Promise<GetResult>;
  /**
   * Stores a body atomically: readers see the old object or the whole new one, never a part.
   * A failed or aborted put leaves nothing behind.
   */
  put(key: string, body: BodyInput, options?: PutOptions): Promise<ObjectInfo>;
  /** Idempotent: deleting a missing key succeeds. */
  delete(key: string): Promise<void>;
  /** One page of a listing. Use `listAll` to stream every entry. */
  list(options?: ListOptions): Promise<ListPage>;
  /** Server-side copy. `NOT_FOUND` for a missing source. */
  copy(sourceKey: string, destinationKey: string, options?: CopyOptions): Promise<ObjectInfo>;
  /**
   * Moves an object atomically, body, metadata and etag alike: readers see it at the source or at
   * the destination, never at both or neither. `NOT_FOUND` for a missing source; `UNSUPPORTED`
   * unless `capabilities.rename` (use `moveObject`, which falls back to copy + delete).
   */
  rename(sourceKey: string, destinationKey: string, options?: RenameOptions): Promise<ObjectInfo>;
  /**
   * Moves every object below `sourcePrefix` (ends with `/`) to `destinationPrefix` in one atomic
   * step. `NOT_FOUND` when nothing is below the source; `PRECONDITION_FAILED` when anything is below
   * the destination; `INVALID_ARGUMENT` when one prefix contains the other; `UNSUPPORTED` unless
   * `capabilities.rename` (use `movePrefix`).
   */
  renamePrefix(sourcePrefix: string, destinationPrefix: string): Promise<void>;
  /** `UNSUPPORTED` unless `capabilities.presign`. */
  presign(key: string, options: PresignOptions): Promise<PresignedRequest>;

  /** `UNSUPPORTED` unless `capabilities.multipart`. Returns an upload id. */
  createMultipart(
    key: string,
    options?: Omit<PutOptions, "size" | "sha256" | "recordSha256" | "signal">,
  ): Promise<string>;
  uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: BodyInput,
    options?: { size?: number; signal?: AbortSignal },
  ): Promise<MultipartPart>;
  /** `NOT_FOUND` for an unknown upload id. */
  listParts(key: string, uploadId: string): Promise<MultipartPart[]>;
  completeMultipart(key: string, uploadId: string, parts: readonly MultipartPart[]): Promise<ObjectInfo>;
  /** Idempotent. */
  abortMultipart(key: string, uploadId: string): Promise<void>;
  /**
   * The multipart uploads under `prefix` that were neither completed nor aborted (a crashed
   * writer's), page by page. `UNSUPPORTED` unless `capabilities.multipart`.
   */
  listMultipartUploads(prefix?: string): AsyncIterable<PendingMultipart>;

  /** Releases sockets and handles. */
  close(): Promise<void>;
}
