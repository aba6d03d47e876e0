/**
 * `tycho pull-list` of 20 packages (4 MiB each, TYCHO_BENCH_MIB to change) from Ceph, in parallel,
 * against pulling them one by one: `pull-list --jobs 1` (sequential, one process) is the reference
 * of the final line; 20 separate `tycho pull` processes (a shell loop) are printed too.
 *
 * Ends with `tycho-pull-list: <s> s (<ratio>x pull-list --jobs 1)` (ratio = reference / ours).
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { benchBucket, median, writeRandomFile } from "./tycho-lib.ts";

const count = 20;
const mib = Number(process.env.TYCHO_BENCH_MIB ?? 4);
const rounds = Number(process.env.TYCHO_BENCH_ROUNDS ?? 3);

await using bucket = await benchBucket("tycho-bench-list");
const names = Array.from({ length: count }, (_, index) => `pkg${String(index).padStart(2, "0")}`);
for (const name of names) {
  const file = join(bucket.dir, `${name}.src`);
  await writeRandomFile(file, mib * 1024 * 1024);
  await bucket.tycho("init", name, `${name}.bin`);
  await bucket.tycho("push", name, "1.0.0", file, "--promote-latest");
}
const clean = () => rm(join(bucket.dir, "tycho_packages"), { recursive: true, force: true });

const parallel: number[] = [];
const sequential: number[] = [];
const loop: number[] = [];
for (let round = 0; round < rounds; round++) {
  await clean();
  sequential.push(await bucket.tycho("pull-list", "--jobs", "1", "--concurrency", "1", ...names));
  await clean();
  parallel.push(await bucket.tycho("pull-list", ...names));
  await clean();
  let total = 0;
  for (const name of names) total += await bucket.tycho("pull", name);
  loop.push(total);
}
const ours = median(parallel);
process.stdout.write(
  `tycho pull one by one (${count} processes): ${median(loop).toFixed(2)} s (pull-list is ${(median(loop) / ours).toFixed(2)}x faster)\n`,
);
process.stdout.write(`tycho pull-list --jobs 1: ${median(sequential).toFixed(2)} s\n`);
process.stdout.write(
  `tycho-pull-list: ${ours.toFixed(2)} s (${(median(sequential) / ours).toFixed(2)}x pull-list --jobs 1)\n`,
);
