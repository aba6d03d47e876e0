/**
 * STOR of 1 GiB through the gateway onto Ceph (s3 driver) against a direct @aws-sdk/lib-storage upload
 * of the same file, then the gateway's peak RSS while 4 clients each upload 1 GiB at once.
 * `pnpm bench ftps-s3 [MiB]`
 */
import { createReadStream } from "node:fs";
import { join } from "node:path";
import { CreateBucketCommand, DeleteBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { emptyBucket } from "@wharf/test-kit";
import { peakRssMiB, randomFile, s3Coordinates, startGateway, timedCurl, workDir } from "./ftps-lib.ts";

const mib = Number(process.argv[2] ?? 1024);
const bytes = mib * 1024 * 1024;
const s3 = s3Coordinates();
const client = new S3Client({
  endpoint: s3.endpoint,
  region: s3.region,
  forcePathStyle: true,
  requestChecksumCalculation: "WHEN_REQUIRED",
  responseChecksumValidation: "WHEN_REQUIRED",
  credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
});
const bucket = `ftps-bench-${Date.now().toString(36)}`;
await client.send(new CreateBucketCommand({ Bucket: bucket }));
const dir = await workDir();
const source = join(dir.path, "source.bin");
await randomFile(source, bytes);

const started = performance.now();
await new Upload({
  client,
  params: { Bucket: bucket, Key: "direct.bin", Body: createReadStream(source) },
  partSize: 8 * 1024 * 1024,
  queueSize: 4,
}).done();
const direct = bytes / 1e6 / ((performance.now() - started) / 1000);

const gateway = await startGateway({
  storageUrl: `s3://${bucket}?endpoint=${encodeURIComponent(s3.endpoint)}&region=${s3.region}&forcePathStyle=true`,
  cert: dir.cert,
  key: dir.key,
  env: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey },
});
let through = 0;
let rss = 0;
try {
  through = bytes / 1e6 / (await timedCurl(gateway.port, false, ["-T", source], "/through.bin"));
  await Promise.all(
    [0, 1, 2, 3].map((i) => timedCurl(gateway.port, false, ["-T", source], `/parallel-${i}.bin`)),
  );
  rss = peakRssMiB(gateway.pid);
} finally {
  await gateway.stop();
  // Deleted bytes stay on Ceph until its garbage collection: leave no bucket behind either.
  await emptyBucket(client, bucket).catch(() => {});
  await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
  await dir.dispose();
}
process.stdout.write(
  `gateway peak RSS with 4 concurrent ${mib} MiB uploads to Ceph: ${rss.toFixed(0)} MiB (target < 200)\n`,
);
process.stdout.write(
  `ftps-s3: ${through.toFixed(0)} MB/s STOR of ${mib} MiB to Ceph (${(through / direct).toFixed(2)}x lib-storage ${direct.toFixed(0)} MB/s)\n`,
);
