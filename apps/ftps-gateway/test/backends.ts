import { ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import { openStorage, type StorageDriver } from "@wharf/storage-driver";
import { createTestBucket, s3Env, tempDir } from "@wharf/test-kit";

/** A store a client test runs against; `dispose` removes everything it made. */
export interface Backend {
  readonly name: string;
  /** `root`: the folder of a file: store; `multipartUploads`: how many an S3 bucket has open. */
  open(): Promise<{
    driver: StorageDriver;
    root?: string;
    multipartUploads?: () => Promise<number>;
    dispose: () => Promise<void>;
  }>;
}

/** The local-disk store in a temporary folder, and an S3 bucket of its own on the shared Ceph RGW. */
export const storeBackends: readonly Backend[] = [
  {
    name: "fs",
    async open() {
      const dir = await tempDir("ftps-fs-");
      const driver = await openStorage(`file://${dir.path}`, { fsEtag: "version" });
      return { driver, root: dir.path, dispose: async () => await dir[Symbol.asyncDispose]() };
    },
  },
  {
    name: "s3 on Ceph",
    async open() {
      const env = s3Env();
      const bucket = await createTestBucket("ftps-gateway");
      const driver = await openStorage(
        `s3://${bucket.name}?endpoint=${encodeURIComponent(env.endpoint)}&region=${env.region}&forcePathStyle=true`,
        { credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey } },
      );
      return {
        driver,
        multipartUploads: async () =>
          (await bucket.client.send(new ListMultipartUploadsCommand({ Bucket: bucket.name }))).Uploads
            ?.length ?? 0,
        dispose: async () => {
          await driver.close();
          await bucket[Symbol.asyncDispose]();
        },
      };
    },
  },
];
