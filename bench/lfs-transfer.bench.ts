/**
 * `pnpm bench lfs-transfer [MiB]`: push and clone of one large object (default 1 GiB) through
 * lfs-router in proxy mode on local disk (opened as `main.ts` does), with curl as the client,
 * against curl to a plain static file server on the same disk in the same run, which fsyncs the
 * file before answering as the router does. The figure is the slower direction's ratio; the
 * static server's push without fsync is printed too.
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { promisify } from "node:util";
import { basicAuth, batch, scratch, startRouter, startStaticServer } from "./lfs-support.ts";

const run = promisify(execFile);
const mib = Number(process.argv[2] ?? 1024);
const size = mib * 1024 * 1024;
const work = await scratch("lfs-transfer-bench-");
const source = join(work.path, "source.bin");
const hash = createHash("sha256");
const out = createWriteStream(source);
const block = randomBytes(1 << 20);
for (let written = 0; written < size; written += block.length) {
  block.writeUInt32BE(written / block.length, 0);
  hash.update(block);
  if (!out.write(Buffer.from(block))) await new Promise<void>((r) => out.once("drain", () => r()));
}
out.end();
await finished(out);
const oid = hash.digest("hex");

const curl = async (args: string[]) => {
  const t = performance.now();
  await run("curl", ["-sS", "-f", "--http1.1", ...args]);
  return (performance.now() - t) / 1000;
};

const router = await startRouter({ STORAGE_URL: `file://${join(work.path, "router-store")}` });
const auth = await basicAuth();
const [upload] = await batch(router.url, "org/big", auth, "upload", [{ oid, size }]);
const put = upload?.actions?.upload?.href;
if (!put) throw new Error("no upload action");
const upOurs = await curl(["-T", source, "-H", "Content-Type: application/octet-stream", put]);
const [download] = await batch(router.url, "org/big", auth, "download", [{ oid, size }]);
const get = download?.actions?.download?.href;
if (!get) throw new Error("no download action");
const downOurs = await curl(["-o", join(work.path, "ours.bin"), get]);
await router.stop();

const plain = await startStaticServer(join(work.path));
const upRef = await curl(["-T", source, `${plain.url}/plain.bin`]);
const upNoSync = await curl(["-T", source, `${plain.url}/plain-nosync.bin?nosync`]);
const downRef = await curl(["-o", join(work.path, "plain-copy.bin"), `${plain.url}/plain.bin`]);
await plain.stop();
await work.dispose();

const rate = (s: number) => mib / s;
console.log(
  `push:  ${rate(upOurs).toFixed(0)} MiB/s (static server ${rate(upRef).toFixed(0)} MiB/s; without fsync ${rate(upNoSync).toFixed(0)} MiB/s)`,
);
console.log(`clone: ${rate(downOurs).toFixed(0)} MiB/s (static server ${rate(downRef).toFixed(0)} MiB/s)`);
const upRatio = upRef / upOurs;
const downRatio = downRef / downOurs;
const worst =
  upRatio < downRatio
    ? { name: "push", rate: rate(upOurs), ratio: upRatio }
    : { name: "clone", rate: rate(downOurs), ratio: downRatio };
console.log(
  `lfs-transfer: ${worst.rate.toFixed(0)} MiB/s ${worst.name} (${worst.ratio.toFixed(2)}x curl to a static file server)`,
);
