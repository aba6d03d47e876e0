/**
 * SFTP put of 1 GiB (OpenSSH `sftp`, its default cipher) through the gateway onto Ceph (s3 driver)
 * against a direct @aws-sdk/lib-storage upload of the same file in the same run, then the gateway's
 * peak RSS while 4 clients each put 1 GiB at once (the bound ftps-s3 holds FTP to: < 200 MiB).
 * `pnpm bench sftp-s3 [MiB]`
 */
import { createReadStream } from "node:fs";
import { join } from "node:path";
import { CreateBucketCommand, DeleteBucketCommand, HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { emptyBucket } from "@wharf/test-kit";
import {
  benchUser,
  freePort,
  peakRssMiB,
  randomFile,
  s3Coordinates,
  startGateway,
  workDir,
} from "./ftps-lib.ts";
import { sftpClient } from "./sftp-lib.ts";

const mib = Number(process.argv[2] ?? 1024);
const bytes = mib * 1024 * 1024;
const s3 = s3Coordinates();
const s3client = new S3Client({
  endpoint: s3.endpoint,
  region: s3.region,
  forcePathStyle: true,
  requestChecksumCalculation: "WHEN_REQUIRED",
  responseChecksumValidation: "WHEN_REQUIRED",
  credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
});
const bucket = `sftp-bench-${Date.now().toString(36)}`;
await s3client.send(new CreateBucketCommand({ Bucket: bucket }));
const dir = await workDir();
const source = join(dir.path, "source.bin");
await randomFile(source, bytes);
const client = await sftpClient(dir.path);

const started = performance.now();
await new Upload({
  client: s3client,
  params: { Bucket: bucket, Key: "direct.bin", Body: createReadStream(source) },
  partSize: 8 * 1024 * 1024,
  queueSize: 4,
}).done();
const direct = bytes / 1e6 / ((performance.now() - started) / 1000);

const sftpPort = await freePort();
const gateway = await startGateway({
  storageUrl: `s3://${bucket}?endpoint=${encodeURIComponent(s3.endpoint)}&region=${s3.region}&forcePathStyle=true`,
  cert: dir.cert,
  key: dir.key,
  env: {
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    SFTP_PORT: String(sftpPort),
    SFTP_LISTEN_HOST: "127.0.0.1",
    SFTP_HOST_KEY_FILE: client.hostKeyFile,
    FTP_USERS__1__AUTHORIZED_KEYS: client.publicKey,
  },
});
client.trust([sftpPort]);
let through = 0;
let rss = 0;
try {
  through = bytes / 1e6 / (await client.timed(sftpPort, benchUser.login, [`put ${source} /through.bin`]));
  await Promise.all(
    [0, 1, 2, 3].map((i) => client.timed(sftpPort, benchUser.login, [`put ${source} /parallel-${i}.bin`])),
  );
  rss = peakRssMiB(gateway.pid);
  const stored = await s3client.send(new HeadObjectCommand({ Bucket: bucket, Key: "parallel-3.bin" }));
  if (stored.ContentLength !== bytes)
    throw new Error(`parallel-3.bin holds ${stored.ContentLength} bytes, not ${bytes}`);
} finally {
  await gateway.stop();
  // Deleted bytes stay on Ceph until its garbage collection: leave no bucket behind either.
  await emptyBucket(s3client, bucket).catch(() => {});
  await s3client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
  await dir.dispose();
}
process.stdout.write(
  `gateway peak RSS with 4 concurrent ${mib} MiB SFTP puts to Ceph: ${rss.toFixed(0)} MiB (target < 200, as FTP's)\n`,
);
process.stdout.write(
  `sftp-s3: ${through.toFixed(0)} MB/s SFTP put of ${mib} MiB to Ceph (${(through / direct).toFixed(2)}x lib-storage ${direct.toFixed(0)} MB/s)\n`,
);
