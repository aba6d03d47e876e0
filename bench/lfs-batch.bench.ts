/**
 * `pnpm bench lfs-batch`: download batches of 100 objects answered with presigned store URLs
 * (direct mode on the dev Ceph, `.wharf/dev-services.env` or WHARF_S3_*), batches/s and latency,
 * against the store work one batch needs done straight with the storage driver in the same run
 * (100 HEADs + 100 presigns, same concurrency). Without Ceph it runs on local disk in proxy mode.
 */
import { openStorage } from "@wharf/storage-driver";
import { basicAuth, batch, cephEnv, percentile, scratch, sha256, startRouter } from "./lfs-support.ts";

const objects = 100;
const seconds = Number(process.argv[2] ?? 5);
const ceph = cephEnv();
const work = await scratch("lfs-batch-bench-");
let storageUrl = `file://${work.path}/store`;
let env: Record<string, string> = {};
let bucket: string | undefined;
if (ceph) {
  bucket = `lfs-bench-${Date.now().toString(36)}`;
  const { S3Client, CreateBucketCommand } = await import("@aws-sdk/client-s3");
  const client = new S3Client({
    endpoint: ceph.endpoint,
    region: ceph.region,
    forcePathStyle: true,
    credentials: ceph,
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  storageUrl = `s3://${bucket}/?${new URLSearchParams({ endpoint: ceph.endpoint, region: ceph.region })}`;
  env = {
    AWS_ACCESS_KEY_ID: ceph.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ceph.secretAccessKey,
    LFS_TRANSFER_MODE: "direct",
  };
}
const driver = await openStorage(storageUrl, ceph ? { credentials: ceph } : {});
const list = Array.from({ length: objects }, (_, i) => {
  const data = Buffer.from(`lfs batch bench object ${i}`);
  return { data, oid: sha256(data), size: data.length };
});
const keyOf = (oid: string) => `org/bench/${oid.slice(0, 2)}/${oid.slice(2, 4)}/${oid}`;
for (const o of list) await driver.put(keyOf(o.oid), o.data, { sha256: o.oid });

const router = await startRouter({ STORAGE_URL: storageUrl, ...env });
const auth = await basicAuth();
const wanted = list.map(({ oid, size }) => ({ oid, size }));

async function timed(fn: () => Promise<void>): Promise<{ perSecond: number; latencies: number[] }> {
  for (let i = 0; i < 3; i++) await fn();
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  while (performance.now() < end) {
    const t = performance.now();
    await fn();
    latencies.push(performance.now() - t);
  }
  latencies.sort((a, b) => a - b);
  return { perSecond: latencies.length / ((performance.now() - started) / 1000), latencies };
}

const ours = await timed(async () => {
  const answer = await batch(router.url, "org/bench", auth, "download", wanted);
  if (answer.some((o) => !o.actions?.download)) throw new Error("a download action is missing");
});
const reference = await timed(async () => {
  await Promise.all(
    list.map(async (o) => {
      await driver.head(keyOf(o.oid));
      if (ceph) await driver.presign(keyOf(o.oid), { method: "GET", expiresIn: 3600 });
    }),
  );
});

await router.stop();
if (ceph && bucket) {
  for (const o of list) await driver.delete(keyOf(o.oid));
  const { S3Client, DeleteBucketCommand } = await import("@aws-sdk/client-s3");
  const client = new S3Client({
    endpoint: ceph.endpoint,
    region: ceph.region,
    forcePathStyle: true,
    credentials: ceph,
  });
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}
await driver.close();
await work.dispose();

const where = ceph ? "Ceph RGW, direct (presigned)" : "local disk, proxy";
console.log(`store: ${where}; ${objects} objects per batch; ${ours.latencies.length} batches`);
console.log(
  `latency ms: p50 ${percentile(ours.latencies, 50).toFixed(1)}, p99 ${percentile(ours.latencies, 99).toFixed(1)} (driver alone p50 ${percentile(reference.latencies, 50).toFixed(1)})`,
);
console.log(`objects/s: ${Math.round(ours.perSecond * objects)}`);
console.log(
  `lfs-batch: ${ours.perSecond.toFixed(1)} batches/s (${(ours.perSecond / reference.perSecond).toFixed(2)}x driver head+presign)`,
);
