/**
 * `pnpm bench lfs-small-objects [count]`: push 1000 objects of 64 KiB one after another through
 * lfs-router (proxy mode, local disk): batch + PUT + verify per object, as git-lfs does; against
 * plain PUTs of the same bytes to a static file server on the same disk in the same run.
 * The ratio is throughput: reference ms/object divided by ours.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { basicAuth, batch, scratch, sha256, startRouter, startStaticServer } from "./lfs-support.ts";

const count = Number(process.argv[2] ?? 1000);
const work = await scratch("lfs-small-bench-");
const objects = Array.from({ length: count }, () => {
  const data = randomBytes(64 * 1024);
  return { data, oid: sha256(data), size: data.length };
});

const router = await startRouter({ STORAGE_URL: `file://${join(work.path, "store")}` });
const auth = await basicAuth();
let t = performance.now();
for (const o of objects) {
  const [answer] = await batch(router.url, "org/small", auth, "upload", [{ oid: o.oid, size: o.size }]);
  const upload = answer?.actions?.upload;
  const verify = answer?.actions?.verify;
  if (!upload || !verify) throw new Error("no upload action");
  const put = await fetch(upload.href, {
    method: "PUT",
    body: o.data,
    headers: { "Content-Type": "application/octet-stream" },
  });
  await put.arrayBuffer();
  const ok = await fetch(verify.href, { method: "POST", body: JSON.stringify({ oid: o.oid, size: o.size }) });
  await ok.arrayBuffer();
  if (!put.ok || !ok.ok) throw new Error(`upload failed: ${put.status} ${ok.status}`);
}
const ours = (performance.now() - t) / count;
await router.stop();

const plain = await startStaticServer(work.path);
t = performance.now();
for (const o of objects) {
  const put = await fetch(`${plain.url}/${o.oid}`, { method: "PUT", body: o.data });
  await put.arrayBuffer();
}
const reference = (performance.now() - t) / count;
await plain.stop();
await work.dispose();

const mibPerSecond = 64 / 1024 / (ours / 1000);
console.log(
  `ours: ${ours.toFixed(2)} ms/object (${mibPerSecond.toFixed(0)} MiB/s); static server PUT only: ${reference.toFixed(2)} ms/object`,
);
console.log(
  `lfs-small-objects: ${ours.toFixed(2)} ms/object (${(reference / ours).toFixed(2)}x plain PUTs to a static file server)`,
);
