/**
 * `pnpm bench lfs-small-objects [count]`: push 1000 objects of 64 KiB one after another through
 * lfs-router (proxy mode, local disk, as `main.ts` opens it): batch + PUT + verify per object, as
 * git-lfs does, on keep-alive connections; LFSX publishes 1.4 ms/object for the same sequence.
 * References in the same run: plain PUTs of the same bytes to a static file server on the same
 * disk that fsyncs each file (the ratio is its ms/object divided by ours), and the storage driver
 * alone (put with sha256 + head per object, in-process): the part of our time that is the store's.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { openStorage } from "@wharf/storage-driver";
import {
  basicAuth,
  batch,
  keepAliveClient,
  scratch,
  sha256,
  startRouter,
  startStaticServer,
} from "./lfs-support.ts";

const count = Number(process.argv[2] ?? 1000);
const work = await scratch("lfs-small-bench-");
const objects = Array.from({ length: count }, () => {
  const data = randomBytes(64 * 1024);
  return { data, oid: sha256(data), size: data.length };
});
const client = keepAliveClient(1);
const perObject = (started: number) => (performance.now() - started) / count;

const router = await startRouter({ STORAGE_URL: `file://${join(work.path, "store")}` });
const auth = await basicAuth();
const phases = { batch: 0, put: 0, verify: 0 };
let t = performance.now();
for (const o of objects) {
  let mark = performance.now();
  const [answer] = await batch(
    router.url,
    "org/small",
    auth,
    "upload",
    [{ oid: o.oid, size: o.size }],
    client,
  );
  const upload = answer?.actions?.upload;
  const verify = answer?.actions?.verify;
  if (!upload || !verify) throw new Error("no upload action");
  phases.batch += performance.now() - mark;
  mark = performance.now();
  const put = await client.request(upload.href, {
    method: "PUT",
    body: o.data,
    headers: { "Content-Type": "application/octet-stream" },
  });
  phases.put += performance.now() - mark;
  mark = performance.now();
  const ok = await client.request(verify.href, {
    method: "POST",
    headers: { "Content-Type": "application/vnd.git-lfs+json" },
    body: JSON.stringify({ oid: o.oid, size: o.size }),
  });
  phases.verify += performance.now() - mark;
  if (put.status !== 200 || ok.status !== 200) throw new Error(`upload failed: ${put.status} ${ok.status}`);
}
const ours = perObject(t);
await router.stop();

const driver = await openStorage(`file://${join(work.path, "driver")}`, { fsEtag: "version" });
t = performance.now();
for (const o of objects) {
  const key = `org/small/${o.oid.slice(0, 2)}/${o.oid.slice(2, 4)}/${o.oid}`;
  await driver.head(key).catch(() => undefined);
  await driver.put(key, o.data, { size: o.size, sha256: o.oid, contentType: "application/octet-stream" });
  await driver.head(key);
}
const store = perObject(t);
await driver.close();

const plain = await startStaticServer(work.path);
t = performance.now();
for (const o of objects) {
  const put = await client.request(`${plain.url}/${o.oid}`, { method: "PUT", body: o.data });
  if (put.status !== 200) throw new Error(`static PUT: ${put.status}`);
}
const reference = perObject(t);
await plain.stop();
client.close();
await work.dispose();

const ms = (value: number) => `${value.toFixed(2)} ms`;
console.log(
  `ours: ${ms(ours)}/object (${(64 / 1024 / (ours / 1000)).toFixed(0)} MiB/s): batch ${ms(phases.batch / count)}, PUT ${ms(phases.put / count)}, verify ${ms(phases.verify / count)}`,
);
console.log(
  `storage driver alone (head + put + head): ${ms(store)}/object, ${((100 * store) / ours).toFixed(0)}% of ours; router and HTTP: ${ms(ours - store)}/object`,
);
console.log(`static server PUT only (fsync): ${ms(reference)}/object; LFSX publishes 1.40 ms/object`);
console.log(
  `lfs-small-objects: ${ours.toFixed(2)} ms/object (${(reference / ours).toFixed(2)}x plain PUTs to a static file server)`,
);
