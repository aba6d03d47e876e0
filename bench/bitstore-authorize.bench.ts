/**
 * `pnpm bench bitstore-authorize`: bitstore's `POST /rawstore/authorize` (token check, validation,
 * keys, `exists` lookup on an in-memory store, one POST form per file) for 1 and 100 files, against
 * building the same forms with @aws-sdk/s3-presigned-post's createPresignedPost in the same process.
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

async function measure(
  run: () => Promise<void>,
  seconds: number,
): Promise<{ perSecond: number; p50: number }> {
  for (let i = 0; i < 20; i++) await run();
  const samples: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t = performance.now();
    await run();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  const total = samples.reduce((a, b) => a + b, 0);
  return {
    perSecond: (samples.length * 1000) / total,
    p50: samples[Math.floor(samples.length / 2)] as number,
  };
}

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const results: Record<
  string,
  { ours: { perSecond: number; p50: number }; sdk: { perSecond: number; p50: number } }
> = {};
for (const n of [1, 100]) {
  const body = bodyFor(n);
  const ours = await measure(() => authorizeOnce(body), seconds);
  const theirs = await measure(() => sdkOnce(n), seconds);
  results[n] = { ours, sdk: theirs };
  process.stdout.write(
    `${n} file(s): bitstore /authorize ${ours.perSecond.toFixed(0)} req/s (p50 ${ours.p50.toFixed(2)} ms); ` +
      `@aws-sdk/s3-presigned-post ${theirs.perSecond.toFixed(0)} sets/s (p50 ${theirs.p50.toFixed(2)} ms)\n`,
  );
}
const hundred = results[100] as (typeof results)[string];
process.stdout.write(
  `bitstore-authorize: ${hundred.ours.perSecond.toFixed(0)} req/s for 100 files (${(hundred.ours.perSecond / hundred.sdk.perSecond).toFixed(2)}x @aws-sdk/s3-presigned-post)\n`,
);
