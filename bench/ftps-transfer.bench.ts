/**
 * STOR and RETR of 1 GiB through the gateway (fs driver) against Debian's vsftpd on the same machine,
 * plain and explicit FTPS, curl as the client, median of 3. The last line is FTPS STOR.
 * `pnpm bench ftps-transfer [MiB]`
 *
 * STOR uploads a new file each run, gateway and vsftpd taking turns, and the file of the run before
 * is deleted (untimed) and given 3 s, so every upload starts with the page cache in the same state.
 * On this kind of VM (Firecracker with free-page reporting) memory freed more than about 2 s ago is
 * handed back to the host, and first touching it again costs more than the copy: speed depends on
 * whether memory was freed just before, not on the server. Uploading over an existing file shows it: vsftpd truncates the old file
 * first (losing it if the upload fails) and writes into the pages just freed; the gateway keeps the
 * old file until the new one is complete and fsynced. That case is printed too ("over an existing
 * file"), as is the gateway without fsync (`?fsync=false`, vsftpd's durability).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { ftpDelete, median, randomFile, startGateway, startVsftpd, timedCurl, workDir } from "./ftps-lib.ts";

const mib = Number(process.argv[2] ?? 1024);
const bytes = mib * 1024 * 1024;
const runs = 3;
/** Longer than the kernel's free-page reporting delay (2 s). */
const settleMs = 3000;
const dir = await workDir();
const source = join(dir.path, "source.bin");
await randomFile(source, bytes);
const gatewayRoot = join(dir.path, "gateway");
const unsyncedRoot = join(dir.path, "gateway-unsynced");
const vsftpdRoot = join(dir.path, "vsftpd");
for (const root of [gatewayRoot, unsyncedRoot, vsftpdRoot]) mkdirSync(root);

const gateway = await startGateway({ storageUrl: `file://${gatewayRoot}`, cert: dir.cert, key: dir.key });
const unsynced = await startGateway({
  storageUrl: `file://${unsyncedRoot}?fsync=false`,
  cert: dir.cert,
  key: dir.key,
});
const vsftpd = await startVsftpd({ root: vsftpdRoot, cert: dir.cert, key: dir.key, dir: dir.path });

const rate = (seconds: number[]) => bytes / 1e6 / median(seconds);

/**
 * MB/s of `runs` uploads of new files to each server, the servers taking turns run by run (so a
 * change in the machine's speed meanwhile, which on a shared VM moves page-cache writes by ±30%,
 * hits both alike); the last one stays as `/big.bin` for RETR.
 */
async function storNew(ports: readonly number[], tls: boolean): Promise<number[]> {
  const times: number[][] = ports.map(() => []);
  for (let i = 0; i < runs; i++) {
    const name = i === runs - 1 ? "big.bin" : `big-${i}.bin`;
    for (const [at, port] of ports.entries()) {
      await ftpDelete(port, tls, "big.bin").catch(() => {});
      await delay(settleMs);
      times[at]!.push(await timedCurl(port, tls, ["-T", source], `/${name}`));
      if (i < runs - 1) await ftpDelete(port, tls, name);
    }
  }
  return times.map(rate);
}

/** MB/s of `runs` uploads over the same existing file. */
async function storOver(port: number, tls: boolean): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timedCurl(port, tls, ["-T", source], "/big.bin"));
  return rate(times);
}

async function retr(port: number, tls: boolean): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timedCurl(port, tls, ["-o", "/dev/null"], "/big.bin"));
  return rate(times);
}

const results: Record<string, { gateway: number; vsftpd: number }> = {};
const report = (name: string, gatewayRate: number, vsftpdRate: number) => {
  results[name] = { gateway: gatewayRate, vsftpd: vsftpdRate };
  process.stdout.write(
    `${name}: gateway ${gatewayRate.toFixed(0)} MB/s, vsftpd ${vsftpdRate.toFixed(0)} MB/s (${(gatewayRate / vsftpdRate).toFixed(2)}x)\n`,
  );
};
try {
  for (const tls of [false, true]) {
    const mode = tls ? "FTPS" : "plain";
    const [gatewayStor = 0, vsftpdStor = 0] = await storNew([gateway.port, vsftpd.port], tls);
    report(`${mode} STOR`, gatewayStor, vsftpdStor);
    report(`${mode} RETR`, await retr(gateway.port, tls), await retr(vsftpd.port, tls));
  }
  report(
    "plain STOR over an existing file",
    await storOver(gateway.port, false),
    await storOver(vsftpd.port, false),
  );
  const [withoutFsync = 0] = await storNew([unsynced.port], false);
  process.stdout.write(
    `plain STOR without fsync (?fsync=false, as vsftpd): gateway ${withoutFsync.toFixed(0)} MB/s (${(withoutFsync / results["plain STOR"]!.vsftpd).toFixed(2)}x vsftpd)\n`,
  );
} finally {
  await gateway.stop();
  await unsynced.stop();
  await vsftpd.stop();
  await dir.dispose();
}
const last = results["FTPS STOR"]!;
process.stdout.write(
  `ftps-transfer: ${last.gateway.toFixed(0)} MB/s FTPS STOR of ${mib} MiB, fs driver (${(last.gateway / last.vsftpd).toFixed(2)}x vsftpd ${last.vsftpd.toFixed(0)} MB/s)\n`,
);
