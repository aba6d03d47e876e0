/**
 * registry-usage: a full crawl of 200 repositories x 20 tags on a real docker-registry 2.8, with
 * the default concurrency (8), against the same crawl made one request at a time (the original
 * scanned sequentially). Prints requests by kind, then the throughput line.
 */
import { startRegistry } from "@wharf/test-kit";
import { crawl } from "../apps/registry-usage/src/crawl.ts";
import { createRegistryClient } from "../apps/registry-usage/src/registry-client.ts";
import { computeUsage } from "../apps/registry-usage/src/usage.ts";
import { populate } from "../apps/registry-usage/test/populate.ts";

const REPOS = Number(process.env.BENCH_REPOS ?? 200);
const TAGS = Number(process.env.BENCH_TAGS ?? 20);

await using registry = await startRegistry({ auth: "none" });
const filled = performance.now();
const { tags } = await populate(registry.url, { repos: REPOS, tags: TAGS });
process.stdout.write(
  `filled ${REPOS} repositories x ${TAGS} tags in ${((performance.now() - filled) / 1000).toFixed(1)} s\n`,
);

async function fullCrawl(concurrency: number) {
  const client = createRegistryClient({ url: registry.url, concurrency, timeoutMs: 60_000 });
  const started = performance.now();
  const snapshot = await crawl(client, { pageSize: 100 });
  const seconds = (performance.now() - started) / 1000;
  const usage = computeUsage(snapshot);
  if (usage.totals.tag_count !== tags)
    throw new Error(`crawl saw ${usage.totals.tag_count} tags, expected ${tags}`);
  return { seconds, counts: client.counts };
}

await fullCrawl(8); // warm the registry's caches
const sequential = await fullCrawl(1);
const ours = await fullCrawl(8);
const rate = (s: number) => tags / s;
process.stdout.write(
  `sequential crawl: ${sequential.seconds.toFixed(2)} s, requests ${JSON.stringify(sequential.counts)}\n`,
);
process.stdout.write(
  `registry-usage crawl (concurrency 8): ${ours.seconds.toFixed(2)} s, requests ${JSON.stringify(ours.counts)}\n`,
);
process.stdout.write(
  `registry-crawl: ${Math.round(rate(ours.seconds))} tags/s (${(rate(ours.seconds) / rate(sequential.seconds)).toFixed(1)}x sequential crawl)\n`,
);
