import { createRequire } from "node:module";
import { openStorage, type StorageDriver } from "@wharf/storage-driver";
import { createTestBucket, type S3Env, s3Client, s3Env, type TestBucket } from "@wharf/test-kit";

export interface CephStore {
  readonly driver: StorageDriver;
  readonly bucket: TestBucket;
  dispose(): Promise<void>;
}

/**
 * A fresh bucket on the Ceph RGW under test (or the S3 server `env` names, e.g. Swift's) and a
 * driver on `<bucket>/<prefix>`; extra URL params (e.g. `partSize`).
 */
export async function cephStore(
  prefix = "timone/",
  params: Record<string, string> = {},
  env: S3Env = s3Env(),
): Promise<CephStore> {
  const bucket = await createTestBucket("lfs-router", { client: s3Client({ env }) });
  const query = new URLSearchParams({
    endpoint: env.endpoint,
    region: env.region,
    forcePathStyle: "true",
    ...params,
  });
  const driver = await openStorage(`s3://${bucket.name}/${prefix}?${query}`, {
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
  });
  return {
    driver,
    bucket,
    dispose: async () => {
      await driver.close();
      await bucket[Symbol.asyncDispose]();
    },
  };
}

type SdkCommand = Parameters<TestBucket["client"]["send"]>[0];

/**
 * The AWS SDK's commands, loaded from where test-kit resolves the SDK: lfs-router never talks to
 * S3 itself, so the SDK is test-kit's dependency, not its own.
 */
const sdk = createRequire(createRequire(import.meta.url).resolve("@wharf/test-kit"))(
  "@aws-sdk/client-s3",
) as {
  HeadObjectCommand: new (input: { Bucket: string; Key: string }) => SdkCommand;
  ListMultipartUploadsCommand: new (input: { Bucket: string; Prefix: string }) => SdkCommand;
  CreateMultipartUploadCommand: new (input: { Bucket: string; Key: string }) => SdkCommand;
  AbortMultipartUploadCommand: new (input: { Bucket: string; Key: string; UploadId: string }) => SdkCommand;
};

/** HeadObject through the AWS SDK: the object's length and ETag as S3 reports them. */
export async function headObject(
  bucket: TestBucket,
  key: string,
): Promise<{ ContentLength?: number; ETag?: string }> {
  return (await bucket.client.send(new sdk.HeadObjectCommand({ Bucket: bucket.name, Key: key }))) as {
    ContentLength?: number;
    ETag?: string;
  };
}

/** Keys of the multipart uploads in progress under `prefix` (ListMultipartUploads through the AWS SDK). */
export async function multipartUploads(bucket: TestBucket, prefix: string): Promise<string[]> {
  const output = (await bucket.client.send(
    new sdk.ListMultipartUploadsCommand({ Bucket: bucket.name, Prefix: prefix }),
  )) as { Uploads?: { Key?: string }[] };
  return (output.Uploads ?? []).map((upload) => upload.Key ?? "");
}

/** Starts a multipart upload straight on the bucket (outside any driver's prefix); returns its id. */
export async function startRawUpload(bucket: TestBucket, key: string): Promise<string> {
  const output = (await bucket.client.send(
    new sdk.CreateMultipartUploadCommand({ Bucket: bucket.name, Key: key }),
  )) as { UploadId?: string };
  return output.UploadId ?? "";
}

export async function abortRawUpload(bucket: TestBucket, key: string, uploadId: string): Promise<void> {
  await bucket.client.send(
    new sdk.AbortMultipartUploadCommand({ Bucket: bucket.name, Key: key, UploadId: uploadId }),
  );
}
