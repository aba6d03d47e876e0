/**
 * SFTP put of 1 GiB (OpenSSH `sftp`, its default cipher) through the gateway onto Ceph (s3 driver)
 * against a direct @aws-sdk/lib-storage upload of the same file in the same run, then the gateway's
 * peak RSS while 4 clients each put 1 GiB at once (the bound ftps-s3 holds FTP to: < 200 MiB).
 * `pnpm bench sftp-s3 [MiB]`
 */
import { join } from "node:path";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import {
  benchBucket,
  benchUser,
  freePort,
  peakRssMiB,
  randomFile,
  startGateway,
  workDir,
} from "./ftps-lib.ts";
import { sftpClient } from "./sftp-lib.ts";

const mib = Number(process.argv[2] ?? 1024);
const bytes = mib * 1024 * 1024;
const bucket = await benchBucket("sftp-bench");
const dir = await workDir();
const source = join(dir.path, "source.bin");
await randomFile(source, bytes);
const client = await sftpClient(dir.path);
const direct = await bucket.directUploadMBps(source, bytes);

const sftpPort = await freePort();
const gateway = await startGateway({
  storageUrl: bucket.storageUrl,
  cert: dir.cert,
  key: dir.key,
  env: {
    ...bucket.env,
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
  const stored = await bucket.client.send(
    new HeadObjectCommand({ Bucket: bucket.name, Key: "parallel-3.bin" }),
  );
  if (stored.ContentLength !== bytes)
    throw new Error(`parallel-3.bin holds ${stored.ContentLength} bytes, not ${bytes}`);
} finally {
  await gateway.stop();
  await bucket.dispose();
  await dir.dispose();
}
process.stdout.write(
  `gateway peak RSS with 4 concurrent ${mib} MiB SFTP puts to Ceph: ${rss.toFixed(0)} MiB (target < 200, as FTP's)\n`,
);
process.stdout.write(
  `sftp-s3: ${through.toFixed(0)} MB/s SFTP put of ${mib} MiB to Ceph (${(through / direct).toFixed(2)}x lib-storage ${direct.toFixed(0)} MB/s)\n`,
);
