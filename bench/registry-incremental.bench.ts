/**
 * registry-usage: the pass after one tag changed, on 200 repositories x 20 tags of a real
 * docker-registry 2.8 that sends notifications to the app's `POST /events`. The figure is the
 * registry requests of the event-driven pass, against those of the full crawl made in the same
 * run; the pass without events (one manifest HEAD per tag) is printed too.
 */
import { randomUUID } from "node:crypto";
import { startRegistry } from "@wharf/test-kit";
import { crawl } from "../apps/registry-usage/src/crawl.ts";
import { createRefresher } from "../apps/registry-usage/src/refresher.ts";
import { createRegistryClient, type RequestCounts } from "../apps/registry-usage/src/registry-client.ts";
import { endpointsEnv, startNotifiedApp } from "../apps/registry-usage/test/notify-server.ts";
import { populate } from "../apps/registry-usage/test/populate.ts";

const REPOS = Number(process.env.BENCH_REPOS ?? 200);
const TAGS = Number(process.env.BENCH_TAGS ?? 20);

const secret = `bench-${randomUUID()}`;
const clock = { now: Date.now() };
const app = await startNotifiedApp(secret, () => clock.now);
process.env.REGISTRY_NOTIFICATIONS_ENDPOINTS = endpointsEnv(app.url, secret);
await using registry = await startRegistry({ auth: "none" });
delete process.env.REGISTRY_NOTIFICATIONS_ENDPOINTS;
const filled = await populate(registry.url, { repos: REPOS, tags: TAGS });
await app.drain(registry.url, filled.repos[0]!, "t0");
process.stdout.write(`filled; ${app.received} events delivered\n`);

const client = createRegistryClient({ url: registry.url, concurrency: 8, timeoutMs: 60_000 });
const refresher = createRefresher({
  store: app.store,
  client,
  holder: "bench",
  refreshIntervalSeconds: 3600,
  leaseSeconds: 300,
  pageSize: 100,
  notifications: { marks: app.marks, intervalSeconds: 30, reconcileIntervalSeconds: 86_400 },
  now: () => clock.now,
});
const total = (c: RequestCounts) => Object.values(c).reduce((a, b) => a + b, 0);

async function tick() {
  const started = performance.now();
  clock.now += 31_000;
  const result = await refresher.tick();
  const status = await app.store.readStatus();
  if (result !== "scanned") throw new Error(`pass ${result}: ${status.last_error ?? ""}`);
  return { seconds: (performance.now() - started) / 1000, counts: status.requests!, mode: status.mode };
}

const full = await tick();
const before = (await app.store.current())!.snapshot;
const repo = filled.repos[7]!;
await filled.change(repo, "t3");
await app.drain(registry.url, filled.repos[0]!, "t0");
const events = await tick();
const after = (await app.store.current())!;
const digest = (snapshot: typeof before) =>
  snapshot.repositories.find((r) => r.name === repo)!.tags!.find((t) => t.name === "t3")!.digest;
if (digest(after.snapshot) === digest(before)) throw new Error("the event-driven pass missed the change");
if (after.usage.totals.tag_count !== filled.tags) throw new Error("the event-driven pass lost tags");

// The same change seen without notifications: a HEAD per tag.
const headClient = createRegistryClient({ url: registry.url, concurrency: 8, timeoutMs: 60_000 });
const headStarted = performance.now();
await crawl(headClient, { pageSize: 100, previous: before });
const heads = { seconds: (performance.now() - headStarted) / 1000, counts: headClient.counts };
await refresher.stop();
await app.close();

const line = (name: string, r: { seconds: number; counts: RequestCounts }) =>
  `${name}: ${r.seconds.toFixed(2)} s, ${total(r.counts)} requests ${JSON.stringify(r.counts)}\n`;
process.stdout.write(line(`full crawl (${full.mode})`, full));
process.stdout.write(line("pass without events (1 tag changed)", heads));
process.stdout.write(line(`pass with events (1 tag changed, ${events.mode})`, events));
process.stdout.write(
  `registry-incremental: ${total(events.counts)} requests (${(total(events.counts) / total(full.counts)).toFixed(5)}x full crawl)\n`,
);
