import { openStorage } from "@wharf/storage-driver";
import { createTestBucket, s3Env } from "@wharf/test-kit";
import { gitLfsSuite } from "./git-lfs-suite.ts";

async function cephStore() {
  const env = s3Env();
  const bucket = await createTestBucket("lfs-router");
  const query = new URLSearchParams({ endpoint: env.endpoint, region: env.region, forcePathStyle: "true" });
  const driver = await openStorage(`s3://${bucket.name}/timone/?${query}`, {
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
  });
  return {
    driver,
    dispose: async () => {
      await driver.close();
      await bucket[Symbol.asyncDispose]();
    },
  };
}

gitLfsSuite({
  name: "Ceph RGW, direct",
  openStore: cephStore,
  mode: "direct",
  largeFileBytes: 200 * 1024 * 1024,
  full: true,
});
gitLfsSuite({
  name: "Ceph RGW, proxy",
  openStore: cephStore,
  mode: "proxy",
  largeFileBytes: 32 * 1024 * 1024,
  full: false,
});
