/**
 * STOR of 1 GiB through the gateway onto Ceph (s3 driver) against a direct @aws-sdk/lib-storage upload
 * of the same file, then the gateway's peak RSS while 4 clients each upload 1 GiB at once.
 * `pnpm bench ftps-s3 [MiB]`
 */
import { join } from "node:path";
import { benchBucket, peakRssMiB, randomFile, startGateway, timedCurl, workDir } from "./ftps-lib.ts";

const mib = Number(process.argv[2] ?? 1024);
const bytes = mib * 1024 * 1024;
const bucket = await benchBucket("ftps-bench");
const dir = await workDir();
const source = join(dir.path, "source.bin");
await randomFile(source, bytes);
const direct = await bucket.directUploadMBps(source, bytes);

const gateway = await startGateway({
  storageUrl: bucket.storageUrl,
  cert: dir.cert,
  key: dir.key,
  env: bucket.env,
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
  await bucket.dispose();
  await dir.dispose();
}
process.stdout.write(
  `gateway peak RSS with 4 concurrent ${mib} MiB uploads to Ceph: ${rss.toFixed(0)} MiB (target < 200)\n`,
);
process.stdout.write(
  `ftps-s3: ${through.toFixed(0)} MB/s STOR of ${mib} MiB to Ceph (${(through / direct).toFixed(2)}x lib-storage ${direct.toFixed(0)} MB/s)\n`,
);
