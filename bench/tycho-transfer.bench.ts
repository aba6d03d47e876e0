/**
 * Push and pull of one 1 GiB file to the same Ceph bucket: `tycho push` / `tycho pull --force`
 * (sha256 recorded and verified, parallel multipart / ranged reads) against `aws s3 cp` both ways
 * (Debian's awscli). Rounds alternate between the two tools; each side reports its median.
 * Size: TYCHO_BENCH_MIB (default 1024); rounds: TYCHO_BENCH_ROUNDS (default 2).
 *
 * Prints push and pull figures, then ends with
 * `tycho-transfer: <MiB/s> MiB/s (<ratio>x aws s3 cp)` for push+pull together.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { benchBucket, median, writeRandomFile } from "./tycho-lib.ts";

const mib = Number(process.env.TYCHO_BENCH_MIB ?? 1024);
const rounds = Number(process.env.TYCHO_BENCH_ROUNDS ?? 2);

await using bucket = await benchBucket("tycho-bench");
const file = join(bucket.dir, "payload.bin");
await writeRandomFile(file, mib * 1024 * 1024);
await bucket.tycho("init", "bench", "payload.out");

const times = {
  tychoPush: [] as number[],
  tychoPull: [] as number[],
  awsPush: [] as number[],
  awsPull: [] as number[],
};
for (let round = 0; round < rounds; round++) {
  times.awsPush.push(
    await bucket.aws("s3", "cp", "--only-show-errors", file, `s3://${bucket.name}/aws/${round}.bin`),
  );
  times.tychoPush.push(await bucket.tycho("push", "bench", `1.0.${round}`, file));
  times.awsPull.push(
    await bucket.aws(
      "s3",
      "cp",
      "--only-show-errors",
      `s3://${bucket.name}/aws/${round}.bin`,
      join(bucket.dir, "aws.out"),
    ),
  );
  await rm(join(bucket.dir, "aws.out"), { force: true });
  // Drop each round's objects once pulled: 2 GiB a round would soon fill a small dev Ceph.
  await bucket.aws("s3", "rm", "--only-show-errors", `s3://${bucket.name}/aws/${round}.bin`);
  times.tychoPull.push(await bucket.tycho("pull", "bench", "--version", `1.0.${round}`, "--force"));
  await rm(join(bucket.dir, "tycho_packages"), { recursive: true, force: true });
  await bucket.tycho("delete", "bench", `1.0.${round}`);
}

const rate = (seconds: number) => mib / seconds;
const push = { tycho: rate(median(times.tychoPush)), aws: rate(median(times.awsPush)) };
const pull = { tycho: rate(median(times.tychoPull)), aws: rate(median(times.awsPull)) };
process.stdout.write(
  `tycho push ${mib} MiB: ${push.tycho.toFixed(0)} MiB/s (${(push.tycho / push.aws).toFixed(2)}x aws s3 cp at ${push.aws.toFixed(0)} MiB/s)\n`,
);
process.stdout.write(
  `tycho pull ${mib} MiB: ${pull.tycho.toFixed(0)} MiB/s (${(pull.tycho / pull.aws).toFixed(2)}x aws s3 cp at ${pull.aws.toFixed(0)} MiB/s)\n`,
);
const both = (2 * mib) / (median(times.tychoPush) + median(times.tychoPull));
const bothAws = (2 * mib) / (median(times.awsPush) + median(times.awsPull));
process.stdout.write(
  `tycho-transfer: ${both.toFixed(0)} MiB/s (${(both / bothAws).toFixed(2)}x aws s3 cp)\n`,
);
