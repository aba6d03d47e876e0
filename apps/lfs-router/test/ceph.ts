import { openStorage, type StorageDriver } from "@wharf/storage-driver";
import { createTestBucket, s3Env, type TestBucket } from "@wharf/test-kit";

export interface CephStore {
  readonly driver: StorageDriver;
  readonly bucket: TestBucket;
  dispose(): Promise<void>;
}

/** A fresh bucket on the Ceph RGW under test and a driver on `<bucket>/<prefix>`; extra URL params (e.g. `partSize`). */
export async function cephStore(prefix = "timone/", params: Record<string, string> = {}): Promise<CephStore> {
  const env = s3Env();
  const bucket = await createTestBucket("lfs-router");
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
