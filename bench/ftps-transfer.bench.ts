/**
 * STOR and RETR of 1 GiB through the gateway (fs driver) against Debian's vsftpd on the same machine,
 * plain and explicit FTPS, curl as the client, median of 3. Also, for plain STOR: the gateway without
 * fsync (vsftpd's durability) and the disk's durable copy rate. The last line is FTPS STOR.
 * `pnpm bench ftps-transfer [MiB]`
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  durableCopy,
  median,
  randomFile,
  startGateway,
  startVsftpd,
  timedCurl,
  workDir,
} from "./ftps-lib.ts";

const mib = Number(process.argv[2] ?? 1024);
const bytes = mib * 1024 * 1024;
const runs = 3;
const dir = await workDir();
const source = join(dir.path, "source.bin");
await randomFile(source, bytes);
const gatewayRoot = join(dir.path, "gateway");
const vsftpdRoot = join(dir.path, "vsftpd");
mkdirSync(gatewayRoot);
mkdirSync(vsftpdRoot);

const gateway = await startGateway({ storageUrl: `file://${gatewayRoot}`, cert: dir.cert, key: dir.key });
const vsftpd = await startVsftpd({ root: vsftpdRoot, cert: dir.cert, key: dir.key, dir: dir.path });

const results: Record<string, { gateway: number; vsftpd: number }> = {};
try {
  for (const tls of [false, true]) {
    for (const direction of ["STOR", "RETR"] as const) {
      const measure = async (port: number) => {
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          times.push(
            direction === "STOR"
              ? await timedCurl(port, tls, ["-T", source], "/big.bin")
              : await timedCurl(port, tls, ["-o", "/dev/null"], "/big.bin"),
          );
        }
        return bytes / 1e6 / median(times);
      };
      const name = `${tls ? "FTPS" : "plain"} ${direction}`;
      results[name] = { gateway: await measure(gateway.port), vsftpd: await measure(vsftpd.port) };
      const r = results[name]!;
      process.stdout.write(
        `${name}: gateway ${r.gateway.toFixed(0)} MB/s, vsftpd ${r.vsftpd.toFixed(0)} MB/s (${(r.gateway / r.vsftpd).toFixed(2)}x)\n`,
      );
    }
  }
  // Context for plain STOR: the gateway answers 226 only once the file is fsynced, vsftpd never
  // fsyncs. The same gateway without fsync (`?fsync=false`, vsftpd's durability), and the disk's own
  // durable rate (the same bytes copied, then fdatasync), both in this run.
  const unsynced = await startGateway({
    storageUrl: `file://${gatewayRoot}-unsynced?fsync=false`,
    cert: dir.cert,
    key: dir.key,
  });
  try {
    mkdirSync(`${gatewayRoot}-unsynced`);
    const times: number[] = [];
    for (let i = 0; i < runs; i++)
      times.push(await timedCurl(unsynced.port, false, ["-T", source], "/big.bin"));
    const rate = bytes / 1e6 / median(times);
    process.stdout.write(
      `plain STOR without fsync (?fsync=false, as vsftpd): gateway ${rate.toFixed(0)} MB/s (${(rate / results["plain STOR"]!.vsftpd).toFixed(2)}x vsftpd)\n`,
    );
  } finally {
    await unsynced.stop();
  }
  const copies: number[] = [];
  for (let i = 0; i < runs; i++) copies.push(await durableCopy(source, join(dir.path, `copy-${i}.bin`)));
  process.stdout.write(
    `disk, durable copy of the same bytes (write, then fdatasync): ${(bytes / 1e6 / median(copies)).toFixed(0)} MB/s\n`,
  );
} finally {
  await gateway.stop();
  await vsftpd.stop();
  await dir.dispose();
}
const last = results["FTPS STOR"]!;
process.stdout.write(
  `ftps-transfer: ${last.gateway.toFixed(0)} MB/s FTPS STOR of ${mib} MiB, fs driver (${(last.gateway / last.vsftpd).toFixed(2)}x vsftpd ${last.vsftpd.toFixed(0)} MB/s)\n`,
);
