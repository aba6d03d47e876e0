/**
 * `pnpm bench lfs-small-objects [count] [batch size] [concurrency]`: push 1000 objects of 64 KiB
 * through lfs-router (proxy mode, local disk, as `main.ts` opens it) the way git-lfs pushes them:
 * one batch request per 100 objects, then the batch's objects PUT by 8 concurrent transfers
 * (`lfs.concurrenttransfers`, default 8) on keep-alive connections, each PUT followed by a verify
 * call only when the batch answer has a verify action, as git-lfs does (proxied uploads get none:
 * the PUT checks the sha256 and size itself), the next batch only
 * once this one is done (git-lfs's transfer queue waits for each batch). The figure is wall time
 * per object for the whole push, what a user of git-lfs waits. A push of 300 other objects to another
 * repository warms the router up first (V8 compiles its hot paths within the first few hundred
 * requests, which a long-running server has long done); it is not measured.
 *
 * Also measured in the same run:
 * - the same push with `lfs.concurrenttransfers=1` (everything one after another), with the
 *   time per object of each call; its PUT time is LFSX's published condition (sequential PUTs
 *   of 64 KiB with curl, no batch, no verify, no auth, each fsynced before the answer);
 * - the reference: PUTs of the same bytes to a plain static file server on the same disk that
 *   fsyncs each file, at the same concurrency and one at a time (the ratio is its ms/object
 *   divided by ours, at git-lfs's concurrency). It does not fsync the folder after renaming the
 *   file into place, so a crash can still lose an object it answered 200 for; the store's put does
 *   (and fsyncs the parent of each fan-out folder it creates): one more disk round trip per object,
 *   which shows most in the one-at-a-time figures;
 * - LFSX's own client loop (a `sha256sum` and a `curl` process per object, 100 objects) against the
 *   static server without fsync: the cost of that condition's client on this machine, which on a
 *   2-core VM is several times LFSX's whole published figure, so only the PUT time above compares;
 * - the storage driver alone, in-process, doing what the router asks of it per object (the batch's
 *   head, then the put with its sha256; a verify call would add a head): the store's part;
 * - the router's CPU time (user + system) per object, which the noise of a shared machine moves
 *   far less than wall time.
 *
 * On ext4 without a journal, each file created within about 1-6 minutes of a bulk delete (such as
 * the clean-up at the end of this bench's previous run) first scans past every recently freed inode
 * (`recently_deleted` in the kernel). On a 2-core VM that took 10% of the router's CPU. Leave a few
 * minutes between runs, or compare only runs that waited alike.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { openStorage } from "@wharf/storage-driver";
import {
  basicAuth,
  batch,
  cpuSeconds,
  type HttpClient,
  keepAliveClient,
  scratch,
  sha256,
  startRouter,
  startStaticServer,
} from "./lfs-support.ts";

const run = promisify(execFile);
const count = Number(process.argv[2] ?? 1000);
const batchSize = Number(process.argv[3] ?? 100);
const concurrency = Number(process.argv[4] ?? 8);
const work = await scratch("lfs-small-bench-");
const newObjects = (n: number) =>
  Array.from({ length: n }, () => {
    const data = randomBytes(64 * 1024);
    return { data, oid: sha256(data), size: data.length };
  });
const objects = newObjects(count);
const warmUp = newObjects(300);
type Item = (typeof objects)[number];

/** Runs `fn` over `items` with at most `limit` in flight. */
async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

interface Push {
  /** Wall ms per object. */
  readonly perObject: number;
  /** Summed ms per object spent in each call (with concurrency, calls overlap). */
  readonly phases: { batch: number; put: number; verify: number };
  /** Verify calls made (one per object whose batch answer had a verify action). */
  readonly verifies: number;
  /** Router CPU ms per object. */
  readonly cpu: number;
}

/** A push as git-lfs's transfer queue makes it: batch, then the batch's transfers, batch after batch. */
async function push(
  routerUrl: string,
  pid: number,
  repo: string,
  parallel: number,
  items: readonly Item[] = objects,
): Promise<Push> {
  const count = items.length;
  const auth = await basicAuth();
  const client = keepAliveClient(parallel);
  const phases = { batch: 0, put: 0, verify: 0 };
  let verifies = 0;
  const timed = async <T>(phase: keyof typeof phases, fn: () => Promise<T>) => {
    const mark = performance.now();
    const result = await fn();
    phases[phase] += performance.now() - mark;
    return result;
  };
  const cpuBefore = cpuSeconds(pid);
  const started = performance.now();
  for (let at = 0; at < count; at += batchSize) {
    const group = items.slice(at, at + batchSize);
    const answers = await timed("batch", () =>
      batch(
        routerUrl,
        repo,
        auth,
        "upload",
        group.map((o) => ({ oid: o.oid, size: o.size })),
        client,
      ),
    );
    const byOid = new Map(group.map((o) => [o.oid, o]));
    await eachLimit(answers, parallel, async (answer) => {
      const o = byOid.get(answer.oid) as Item;
      const upload = answer.actions?.upload;
      const verify = answer.actions?.verify;
      if (!upload) throw new Error(`no upload action for ${answer.oid}`);
      const put = await timed("put", () =>
        client.request(upload.href, {
          method: "PUT",
          body: o.data,
          headers: { ...upload.header, "Content-Type": "application/octet-stream" },
        }),
      );
      if (put.status !== 200) throw new Error(`PUT: ${put.status} ${put.body.toString()}`);
      if (!verify) return;
      verifies++;
      const ok = await timed("verify", () =>
        client.request(verify.href, {
          method: "POST",
          headers: {
            ...verify.header,
            Accept: "application/vnd.git-lfs+json",
            "Content-Type": "application/vnd.git-lfs+json",
          },
          body: JSON.stringify({ oid: o.oid, size: o.size }),
        }),
      );
      if (ok.status !== 200) throw new Error(`verify: ${ok.status} ${ok.body.toString()}`);
    });
  }
  const perObject = (performance.now() - started) / count;
  const cpu = ((cpuSeconds(pid) - cpuBefore) * 1000) / count;
  client.close();
  const per = (ms: number) => ms / count;
  return {
    perObject,
    phases: { batch: per(phases.batch), put: per(phases.put), verify: per(phases.verify) },
    cpu,
    verifies,
  };
}

/** Plain PUTs of every object to the static server, `parallel` at a time: ms per object. */
async function plainPuts(url: string, client: HttpClient, parallel: number, tag: string): Promise<number> {
  const started = performance.now();
  await eachLimit(objects, parallel, async (o) => {
    const put = await client.request(`${url}/${tag}-${o.oid}`, { method: "PUT", body: o.data });
    if (put.status !== 200) throw new Error(`static PUT: ${put.status}`);
  });
  return (performance.now() - started) / count;
}

/**
 * LFSX's own client loop (`bench/throughput.sh`): per object a `sha256sum | cut` and a `curl -X PUT`
 * process, one after another, here against the static server without fsync: what that loop costs
 * on this machine before any server does real work. ms per object.
 */
async function lfsxLoop(url: string, n: number): Promise<number> {
  const dir = join(work.path, "lfsx-loop");
  await mkdir(dir);
  for (const [i, o] of objects.slice(0, n).entries()) await writeFile(join(dir, `${i}.bin`), o.data);
  const script = `for i in $(seq 0 ${n - 1}); do
  oid=$(sha256sum "${dir}/$i.bin" | cut -d' ' -f1)
  curl -fsS -X PUT --data-binary "@${dir}/$i.bin" "${url}/loop-$oid?nosync" >/dev/null
done`;
  const started = performance.now();
  await run("bash", ["-c", script]);
  return (performance.now() - started) / n;
}

// LFS_BENCH_STORAGE_URL (e.g. `memory://`): another store under the router, to tell its own cost
// from the store's.
const router = await startRouter({
  STORAGE_URL: process.env.LFS_BENCH_STORAGE_URL ?? `file://${join(work.path, "store")}`,
});
// Warm-up, not measured: a server that has run for a while has compiled its hot paths (V8's JIT);
// a push to a process started a second ago would time the compiler. Its own objects, repository
// and fan-out folders, so nothing of the measured push is there before it.
await push(router.url, router.pid, "org/warm-up", concurrency, warmUp);
const ours = await push(router.url, router.pid, "org/small", concurrency);
const serial = await push(router.url, router.pid, "org/small-serial", 1);
await router.stop();

const driver = await openStorage(`file://${join(work.path, "driver")}`, { fsEtag: "version" });
const storeAlone = async (prefix: string, parallel: number) => {
  const started = performance.now();
  await eachLimit(objects, parallel, async (o) => {
    const key = `${prefix}/${o.oid.slice(0, 2)}/${o.oid.slice(2, 4)}/${o.oid}`;
    await driver.head(key).catch(() => undefined);
    // As the router's put: the sha256 checked, not recorded (the key names it), so no sidecar.
    await driver.put(key, o.data, {
      size: o.size,
      sha256: o.oid,
      recordSha256: false,
      contentType: "application/octet-stream",
    });
  });
  return (performance.now() - started) / count;
};
const store = await storeAlone("org/parallel", concurrency);
const storeSerial = await storeAlone("org/serial", 1);
await driver.close();

const plain = await startStaticServer(work.path);
const plainClient = keepAliveClient(concurrency);
const reference = await plainPuts(plain.url, plainClient, concurrency, "p");
const referenceSerial = await plainPuts(plain.url, plainClient, 1, "s");
plainClient.close();
const loop = await lfsxLoop(plain.url, 100);
await plain.stop();
await work.dispose();

const ms = (value: number) => `${value.toFixed(2)} ms`;
const mibs = (perObject: number) => `${(64 / 1024 / (perObject / 1000)).toFixed(0)} MiB/s`;
const calls = (p: Push) =>
  p.verifies === 0 ? "PUT each, no verify action" : `PUT + verify for ${p.verifies} of ${count}`;
const verifyTime = (p: Push) => (p.verifies === 0 ? "" : `, verify ${ms(p.phases.verify)}`);
console.log(
  `git-lfs pattern (batches of ${batchSize}, ${concurrency} concurrent transfers, ${calls(ours)}): ${ms(ours.perObject)}/object (${mibs(ours.perObject)}); router CPU ${ms(ours.cpu)}/object`,
);
console.log(
  `one at a time (lfs.concurrenttransfers=1): ${ms(serial.perObject)}/object (${mibs(serial.perObject)}): batch ${ms(serial.phases.batch)}, PUT ${ms(serial.phases.put)}${verifyTime(serial)}; router CPU ${ms(serial.cpu)}/object`,
);
console.log(
  `storage driver alone (head + put, as the router per object): ${ms(store)}/object at ${concurrency}, ${ms(storeSerial)}/object one at a time`,
);
console.log(
  `static server PUT only (fsync): ${ms(reference)}/object at ${concurrency}, ${ms(referenceSerial)}/object one at a time`,
);
console.log(
  `LFSX publishes 1.40 ms/object for sequential curl PUTs (no batch, verify or auth; 4 cores); under that condition ours is the PUT above: ${ms(serial.phases.put)}/object`,
);
console.log(
  `LFSX's loop itself (sha256sum + curl processes per object) against the static server without fsync: ${ms(loop)}/object on this machine`,
);
console.log(
  `lfs-small-objects: ${ours.perObject.toFixed(2)} ms/object (${(reference / ours.perObject).toFixed(2)}x plain PUTs to a static file server, ${concurrency} at a time)`,
);
