/**
 * `pnpm bench bitstore-authorize`: bitstore's `POST /rawstore/authorize` (token check, validation,
 * keys, `exists` lookup on an in-memory store, one POST form per file) for 1 and 100 files, against
 * building the same forms with @aws-sdk/s3-presigned-post's createPresignedPost in the same process,
 * the two sides alternating in short slices; each line also gives the CPU time per call, which load
 * from elsewhere on a shared machine distorts less than wall time. Every request carries the same token, as DataHub's
 * client sends it, so bitstore checks its signature once and then remembers it (see token-cache.ts).
 * Ends with `bitstore-authorize: <req/s> req/s for 100 files (<ratio>x @aws-sdk/s3-presigned-post)`.
 */
import { createHash } from "node:crypto";
import { S3Client } from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { createMemoryDriver } from "@wharf/storage-driver";
import { buildApp, token } from "../apps/bitstore/test/helpers.ts";

const credentials = { accessKeyId: "AKIDBENCH", secretAccessKey: "bench-secret-key" };
const app = buildApp({
  driver: createMemoryDriver(),
  env: {
    STORAGE_URL: "s3://bench-bucket?endpoint=http://127.0.0.1:7480&region=us-east-1&forcePathStyle=true",
    STORAGE_ACCESS_KEY_ID: credentials.accessKeyId,
    STORAGE_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  },
});
const jwt = await token("bob");
const md5 = (s: string) => createHash("md5").update(s).digest("base64");
const files = (n: number) =>
  Object.fromEntries(
    Array.from({ length: n }, (_, i) => [
      `data/part-${i}.csv`,
      { length: 1000 + i, md5: md5(`f${i}`), type: "text/csv", name: `part-${i}.csv` },
    ]),
  );

function bodyFor(n: number): string {
  return JSON.stringify({ metadata: { owner: "bob", name: "bench" }, filedata: files(n) });
}

async function authorizeOnce(body: string): Promise<void> {
  const res = await app.request("/rawstore/authorize", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Auth-Token": jwt },
    body,
  });
  if (res.status !== 200) throw new Error(`authorize answered ${res.status}`);
  await res.arrayBuffer();
}

const sdk = new S3Client({
  region: "us-east-1",
  endpoint: "http://127.0.0.1:7480",
  forcePathStyle: true,
  credentials,
  requestChecksumCalculation: "WHEN_REQUIRED",
});
async function sdkOnce(n: number): Promise<void> {
  const entries = Object.entries(files(n));
  for (const [path, file] of entries) {
    await createPresignedPost(sdk, {
      Bucket: "bench-bucket",
      Key: `bob/bench/${path}`,
      Conditions: [["content-length-range", file.length, file.length]],
      Fields: { acl: "public-read", "Content-MD5": file.md5, "Content-Type": file.type },
      Expires: 3600,
    });
  }
}

interface Figure {
  perSecond: number;
  p50: number;
  /** Microseconds of this process's CPU per call: what load from elsewhere on the machine distorts least. */
  cpuMicros: number;
}

/**
 * Runs both sides in alternating 100 ms slices, so that load from elsewhere on a shared machine
 * falls on both alike, and reports each side's rate over its own summed time.
 */
async function measurePair(
  ours: () => Promise<void>,
  theirs: () => Promise<void>,
  seconds: number,
): Promise<{ ours: Figure; sdk: Figure }> {
  for (let i = 0; i < 20; i++) {
    await ours();
    await theirs();
  }
  const samples: [number[], number[]] = [[], []];
  const cpu = [0, 0];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    for (const [side, run] of [ours, theirs].entries()) {
      const sliceEnd = performance.now() + 100;
      const sliceCpu = process.cpuUsage();
      while (performance.now() < sliceEnd) {
        const t = performance.now();
        await run();
        samples[side]?.push(performance.now() - t);
      }
      const used = process.cpuUsage(sliceCpu);
      cpu[side] = (cpu[side] as number) + used.user + used.system;
    }
  }
  const figure = (list: number[], cpuTotal: number): Figure => {
    list.sort((a, b) => a - b);
    const total = list.reduce((a, b) => a + b, 0);
    return {
      perSecond: (list.length * 1000) / total,
      p50: list[Math.floor(list.length / 2)] as number,
      cpuMicros: cpuTotal / list.length,
    };
  };
  return { ours: figure(samples[0], cpu[0] as number), sdk: figure(samples[1], cpu[1] as number) };
}

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const results: Record<string, { ours: Figure; sdk: Figure }> = {};
for (const n of [1, 100]) {
  const body = bodyFor(n);
  const { ours, sdk: theirs } = await measurePair(
    () => authorizeOnce(body),
    () => sdkOnce(n),
    seconds,
  );
  results[n] = { ours, sdk: theirs };
  process.stdout.write(
    `${n} file(s): bitstore /authorize ${ours.perSecond.toFixed(0)} req/s (p50 ${ours.p50.toFixed(2)} ms); ` +
      `@aws-sdk/s3-presigned-post ${theirs.perSecond.toFixed(0)} sets/s (p50 ${theirs.p50.toFixed(2)} ms); ` +
      `CPU ${ours.cpuMicros.toFixed(0)} µs vs ${theirs.cpuMicros.toFixed(0)} µs (${(theirs.cpuMicros / ours.cpuMicros).toFixed(2)}x)\n`,
  );
}
const hundred = results[100] as (typeof results)[string];
process.stdout.write(
  `bitstore-authorize: ${hundred.ours.perSecond.toFixed(0)} req/s for 100 files (${(hundred.ours.perSecond / hundred.sdk.perSecond).toFixed(2)}x @aws-sdk/s3-presigned-post)\n`,
);
