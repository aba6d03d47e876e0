/**
 * `pnpm bench lfs-huge [MiB]` (opt-in, needs the dev Ceph; default 5200 MiB, over S3's 5 GiB
 * single-PUT limit): one object pushed through lfs-router in proxy mode to Ceph RGW, which
 * streams it to S3 as a multipart upload, then checked: stored size, several parts (ETag `-N`),
 * and the sha256 of a full download through the router. The reference, in the same run, is the
 * storage driver putting the same stream in-process (the same multipart path, minus HTTP and the
 * router). Nothing of it stays: the bucket is emptied and deleted.
 */
import { createHash, randomBytes } from "node:crypto";
import { request } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { openStorage } from "@wharf/storage-driver";
import { basicAuth, batch, cephEnv, startRouter } from "./lfs-support.ts";

const mib = Number(process.argv[2] ?? 5200);
const size = mib * 1024 * 1024;
const ceph = cephEnv();
if (!ceph) {
  console.error("lfs-huge needs the dev Ceph (infra/lib/dev-services.sh start) or WHARF_S3_*");
  process.exit(1);
}
const { S3Client, CreateBucketCommand, DeleteBucketCommand, HeadObjectCommand } = await import(
  "@aws-sdk/client-s3"
);
const client = new S3Client({
  endpoint: ceph.endpoint,
  region: ceph.region,
  forcePathStyle: true,
  credentials: ceph,
});
const bucket = `lfs-huge-${Date.now().toString(36)}`;
await client.send(new CreateBucketCommand({ Bucket: bucket }));
const storageUrl = `s3://${bucket}/?${new URLSearchParams({ endpoint: ceph.endpoint, region: ceph.region, forcePathStyle: "true" })}`;

/** The object's bytes, the same on every call: 1 MiB random blocks, each stamped with its index. */
const block = randomBytes(1 << 20);
function body(): Readable {
  return Readable.from(
    (function* () {
      for (let offset = 0, n = 0; offset < size; offset += block.length, n++) {
        const chunk = Buffer.from(block.subarray(0, Math.min(block.length, size - offset)));
        chunk.writeUInt32BE(n, 0);
        yield chunk;
      }
    })(),
  );
}
const sha256Of = async (stream: AsyncIterable<Buffer>) => {
  const hash = createHash("sha256");
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest("hex");
};
const oid = await sha256Of(body());
const key = `org/huge/${oid.slice(0, 2)}/${oid.slice(2, 4)}/${oid}`;

const router = await startRouter({
  STORAGE_URL: storageUrl,
  LFS_TRANSFER_MODE: "proxy",
  AWS_ACCESS_KEY_ID: ceph.accessKeyId,
  AWS_SECRET_ACCESS_KEY: ceph.secretAccessKey,
});
const auth = await basicAuth();
const [upload] = await batch(router.url, "org/huge", auth, "upload", [{ oid, size }]);
const put = upload?.actions?.upload?.href;
if (!put?.startsWith(router.url)) throw new Error("expected a proxied upload link");
let t = performance.now();
const status = await new Promise<number>((done, fail) => {
  const req = request(
    put,
    {
      method: "PUT",
      headers: { "Content-Length": String(size), "Content-Type": "application/octet-stream" },
    },
    (res) => {
      res.resume();
      res.on("end", () => done(res.statusCode ?? 0));
    },
  );
  req.on("error", fail);
  pipeline(body(), req).catch(fail);
});
const upSeconds = (performance.now() - t) / 1000;
if (status !== 200) throw new Error(`proxied PUT answered ${status}`);

const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
const parts = Number(/-(\d+)"?$/.exec(head.ETag ?? "")?.[1] ?? 1);
const [download] = await batch(router.url, "org/huge", auth, "download", [{ oid, size }]);
const get = download?.actions?.download?.href;
if (!get) throw new Error("no download action");
t = performance.now();
const res = await fetch(get);
const downloaded = await sha256Of(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream));
const downSeconds = (performance.now() - t) / 1000;
await router.stop();

const driver = await openStorage(storageUrl, { credentials: ceph });
await driver.delete(key);
t = performance.now();
await driver.put("reference/huge.bin", body(), { size, sha256: oid });
const refSeconds = (performance.now() - t) / 1000;
await driver.delete("reference/huge.bin");
await driver.close();
await client.send(new DeleteBucketCommand({ Bucket: bucket }));

const ok = head.ContentLength === size && parts > 1 && downloaded === oid;
console.log(
  `stored ${head.ContentLength} bytes in ${parts} parts; download sha256 ${downloaded === oid ? "matches" : "DIFFERS"}`,
);
console.log(
  `push ${(mib / upSeconds).toFixed(0)} MiB/s, download ${(mib / downSeconds).toFixed(0)} MiB/s; driver put alone ${(mib / refSeconds).toFixed(0)} MiB/s`,
);
console.log(
  `lfs-huge: ${(mib / upSeconds).toFixed(0)} MiB/s push of ${mib} MiB through proxy multipart, ${ok ? "verified" : "FAILED"} (${(refSeconds / upSeconds).toFixed(2)}x the driver's own multipart put)`,
);
if (!ok) process.exit(1);
