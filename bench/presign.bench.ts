/**
 * Presigned GET URLs per second: @wharf/s3-signing's presigner against the AWS SDK's
 * `getSignedUrl`, same process, same requests (path-style custom endpoint, a distinct key per
 * URL). Three alternating rounds after a warm-up; each side reports its median round.
 *
 * Ends with `presign: <N> urls/s (<ratio>x @aws-sdk/s3-request-presigner)`.
 */
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { createPresigner } from "@wharf/s3-signing";

const ROUNDS = 3;
const SDK_ROUND_MS = 1000;
const OURS_ROUND_MS = 500;
const SDK_BATCH = 200;

const credentials = {
  accessKeyId: "AKIDBENCHMARK0000000",
  secretAccessKey: "bench/secret+key/0000000000000000000000",
};
const endpoint = "http://127.0.0.1:7480";
const region = "us-east-1";
const bucket = "bench-bucket";
const client = new S3Client({
  region,
  endpoint,
  forcePathStyle: true,
  credentials,
  requestChecksumCalculation: "WHEN_REQUIRED",
  responseChecksumValidation: "WHEN_REQUIRED",
});
const presigner = createPresigner({ credentials, region });
const keyOf = (i: number) => `objects/${i % 10_000}/payload ${i}.bin`;

async function sdkRound(ms: number): Promise<number> {
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    const batch: Promise<string>[] = [];
    for (let i = 0; i < SDK_BATCH; i++) {
      batch.push(
        getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: keyOf(count + i) }), {
          expiresIn: 900,
        }),
      );
    }
    await Promise.all(batch);
    count += SDK_BATCH;
  }
  return (count * 1000) / (performance.now() - start);
}

let sink = 0;
function oursRound(ms: number): number {
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (let i = 0; i < 1000; i++) {
      const url = presigner.presignUrl({
        method: "GET",
        url: { endpoint, bucket, key: keyOf(count + i), forcePathStyle: true },
        expiresIn: 900,
      });
      sink += url.length;
    }
    count += 1000;
  }
  return (count * 1000) / (performance.now() - start);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const signingDate = new Date();
const reference = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: keyOf(7) }), {
  signingDate,
});
const ours = presigner.presignUrl({
  method: "GET",
  url: { endpoint, bucket, key: keyOf(7), forcePathStyle: true },
  now: signingDate,
});
if (ours !== reference) {
  process.stderr.write(`presign: outputs differ\n sdk:  ${reference}\n ours: ${ours}\n`);
  process.exit(1);
}

await sdkRound(300);
oursRound(200);
const sdk: number[] = [];
const wharf: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  sdk.push(await sdkRound(SDK_ROUND_MS));
  wharf.push(oursRound(OURS_ROUND_MS));
}
const sdkRate = median(sdk);
const oursRate = median(wharf);
const fmt = (rates: number[]) => rates.map((r) => Math.round(r)).join(", ");
process.stdout.write(
  `@aws-sdk/s3-request-presigner getSignedUrl: ${fmt(sdk)} urls/s per round (${SDK_BATCH} in flight)\n`,
);
process.stdout.write(
  `@wharf/s3-signing presignUrl: ${fmt(wharf)} urls/s per round (${sink} bytes of URLs)\n`,
);
process.stdout.write(
  `presign: ${Math.round(oursRate)} urls/s (${(oursRate / sdkRate).toFixed(1)}x @aws-sdk/s3-request-presigner)\n`,
);
