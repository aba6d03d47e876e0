import { randomUUID } from "node:crypto";
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { WharfError } from "@wharf/errors";
import { createPresignedPost } from "@wharf/s3-signing";
import { RESERVED_SEGMENT } from "../../keys.ts";
import { s3ErrorCode, translateS3Error } from "./errors.ts";

/** The capabilities S3 implementations differ on, as `probeS3Store` found them. */
export interface S3StoreFeatures {
  readonly conditionalWrite: boolean;
  readonly presignedPost: boolean;
}

export interface S3ProbeOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** The driver's key prefix (empty or ending with `/`). */
  readonly prefix: string;
  /** For the POST probe: where browser forms go (default AWS's regional endpoint). */
  readonly endpoint?: string;
  readonly forcePathStyle: boolean;
  /** Which features to probe; the others are left out of the answer. */
  readonly probe: { readonly conditionalWrite: boolean; readonly presignedPost: boolean };
  readonly fetch?: typeof fetch;
  /** How long the probe may take in all (default 30 s); then it fails `UNAVAILABLE`, naming the wait. */
  readonly timeoutMs?: number;
}

const stateIt = "state it in the storage URL with conditionalWrite=… and presignedPost=…";

/** A probe that could not tell: the store is down, or refused our credentials. */
function inconclusive(error: unknown): WharfError {
  const translated = translateS3Error(error);
  return new WharfError(
    translated.code,
    `cannot learn what the S3 store supports (${translated.message}); fix that, or ${stateIt}`,
    { cause: error },
  );
}

/**
 * Learns at open what this S3 store does, with a few requests on keys under the driver's reserved
 * folder (removed again): a PUT `If-None-Match: *` on an existing key and a PUT `If-Match` with a
 * wrong etag must both answer 412 (Swift's s3api answers 501; a store that ignores the headers and
 * overwrites would answer 200: both are "no"); a browser POST with a signed policy must be stored
 * (Swift answers 412 `Bad URL`). Fails with the store's error when it cannot tell (unreachable,
 * missing bucket, refused credentials).
 */
export async function probeS3Store(options: S3ProbeOptions): Promise<Partial<S3StoreFeatures>> {
  const { client, bucket } = options;
  const timeoutMs = options.timeoutMs ?? 30_000;
  // A store that accepts connections but never answers (a full Ceph OSD) must not hang the start.
  const signal = AbortSignal.timeout(timeoutMs);
  const send = { abortSignal: signal };
  const base = `${options.prefix}${RESERVED_SEGMENT}/probe/${randomUUID()}`;
  const created: Array<{ key: string; versionId?: string }> = [];
  const remember = (key: string, versionId: string | undefined) =>
    created.push(versionId === undefined ? { key } : { key, versionId });

  async function conditionalWrite(): Promise<boolean> {
    const key = `${base}-conditional`;
    const plain = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: "probe" }), send);
    remember(key, plain.VersionId);
    const refused = async (condition: { IfNoneMatch: "*" } | { IfMatch: string }) => {
      try {
        const output = await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: "probe", ...condition }),
          send,
        );
        remember(key, output.VersionId);
        return false;
      } catch (error) {
        const code = s3ErrorCode(error);
        if (code === "PRECONDITION_FAILED") return true;
        if (code === "UNSUPPORTED" || code === "INVALID_ARGUMENT") return false;
        throw error;
      }
    };
    const [ifNoneMatch, ifMatch] = await Promise.all([
      refused({ IfNoneMatch: "*" }),
      refused({ IfMatch: "0123456789abcdef0123456789abcdef" }),
    ]);
    return ifNoneMatch && ifMatch;
  }

  async function presignedPost(): Promise<boolean> {
    const key = `${base}-post`;
    const credentials = await client.config.credentials();
    const region = await client.config.region();
    const form = createPresignedPost({
      bucket,
      key,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      forcePathStyle: options.forcePathStyle,
      credentials,
      region,
      expiresIn: 300,
      conditions: [["content-length-range", 0, 64]],
    });
    const data = new FormData();
    for (const [field, value] of Object.entries(form.fields)) data.append(field, value);
    data.append("file", new Blob(["probe"]), "probe.txt");
    const response = await (options.fetch ?? fetch)(form.url, {
      method: "POST",
      body: data,
      redirect: "manual",
      signal,
    }).catch((cause: unknown) => {
      throw new WharfError("UNAVAILABLE", "the S3 service is unavailable", { cause });
    });
    await response.body?.cancel();
    if (response.ok) remember(key, response.headers.get("x-amz-version-id") ?? undefined);
    // Anything but an accepted upload (Swift: 412 Bad URL) means browser forms cannot go to the store.
    return response.ok;
  }

  try {
    const [writeProbe, postProbe] = await Promise.allSettled([
      options.probe.conditionalWrite ? conditionalWrite() : undefined,
      options.probe.presignedPost ? presignedPost() : undefined,
    ]);
    // The S3 API's own error (a missing bucket, refused credentials) says more than the form's.
    if (writeProbe.status === "rejected") throw writeProbe.reason;
    if (postProbe.status === "rejected") throw postProbe.reason;
    const [write, post] = [writeProbe.value, postProbe.value];
    return {
      ...(write === undefined ? {} : { conditionalWrite: write }),
      ...(post === undefined ? {} : { presignedPost: post }),
    };
  } catch (error) {
    if (signal.aborted) {
      throw inconclusive(
        new WharfError("UNAVAILABLE", `the store did not answer within ${timeoutMs / 1000} s`, {
          cause: error,
        }),
      );
    }
    throw inconclusive(error);
  } finally {
    const cleanup = { abortSignal: AbortSignal.timeout(timeoutMs) };
    await Promise.all(
      created.map(({ key, versionId }) =>
        client
          .send(
            new DeleteObjectCommand({
              Bucket: bucket,
              Key: key,
              ...(versionId === undefined ? {} : { VersionId: versionId }),
            }),
            cleanup,
          )
          .catch(() => undefined),
      ),
    );
  }
}
