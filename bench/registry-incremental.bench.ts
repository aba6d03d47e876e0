/**
 * registry-usage: the incremental pass after one tag changed, on 200 repositories x 20 tags of a
 * real docker-registry 2.8. The figure is the manifest GETs it makes, against those of the full
 * crawl made in the same run; HEADs (one per tag: the distribution API has no change feed) and
 * times are printed too.
 */
import { startRegistry } from "@wharf/test-kit";
import { crawl } from "../apps/registry-usage/src/crawl.ts";
import { createRegistryClient } from "../apps/registry-usage/src/registry-client.ts";
import { computeUsage } from "../apps/registry-usage/src/usage.ts";
import { populate } from "../apps/registry-usage/test/populate.ts";

const REPOS = Number(process.env.BENCH_REPOS ?? 200);
const TAGS = Number(process.env.BENCH_TAGS ?? 20);

await using registry = await startRegistry({ auth: "none" });
const filled = await populate(registry.url, { repos: REPOS, tags: TAGS });

async function pass(previous?: Parameters<typeof crawl>[1]["previous"]) {
  const client = createRegistryClient({ url: registry.url, concurrency: 8, timeoutMs: 60_000 });
  const started = performance.now();
  const snapshot = await crawl(client, { pageSize: 100, ...(previous ? { previous } : {}) });
  return { snapshot, seconds: (performance.now() - started) / 1000, counts: client.counts };
}

const full = await pass();
await filled.change(filled.repos[7]!, "t3");
const incremental = await pass(full.snapshot);
const changed = computeUsage(incremental.snapshot)
  .byName.get(filled.repos[7]!)!
  .tags!.find((t) => t.name === "t3")!;
const before = computeUsage(full.snapshot)
  .byName.get(filled.repos[7]!)!
  .tags!.find((t) => t.name === "t3")!;
if (changed.digest === before.digest) throw new Error("the incremental pass missed the changed tag");

const total = (c: object) => (Object.values(c) as number[]).reduce((a, b) => a + b, 0);
process.stdout.write(
  `full crawl: ${full.seconds.toFixed(2)} s, ${total(full.counts)} requests ${JSON.stringify(full.counts)}\n`,
);
process.stdout.write(
  `incremental pass (1 tag changed): ${incremental.seconds.toFixed(2)} s, ${total(incremental.counts)} requests ${JSON.stringify(incremental.counts)}\n`,
);
process.stdout.write(
  `registry-incremental: ${incremental.counts.manifestGet} manifest GETs (${(incremental.counts.manifestGet / full.counts.manifestGet).toFixed(5)}x full crawl)\n`,
);
