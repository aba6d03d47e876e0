/**
 * registry-usage dashboard: page weight (JS + CSS gzip as served), time to the first chart in
 * headless Chromium, and server time per page, on a generated snapshot of 5,000 repositories and
 * 100,000 tags with a year of daily history. The reference is the API's own HTML view of the
 * same repositories (`/repositories?embed=1`, json2html as in the original), opened in the same run.
 */
import { request } from "node:http";
import { createIssuer } from "@wharf/auth-jwt";
import { createMetrics, serveHttp, silentLogger } from "@wharf/http-kit";
import { openStorage } from "@wharf/storage-driver";
import { tempDir } from "@wharf/test-kit";
import { createApp } from "../apps/registry-usage/src/app.ts";
import { createHistory } from "../apps/registry-usage/src/history.ts";
import { createSnapshotStore } from "../apps/registry-usage/src/snapshot-store.ts";
import { launchChromium } from "../apps/registry-usage/test/browser.ts";
import { generateSnapshot } from "../apps/registry-usage/test/generated-snapshot.ts";
import { buildUi } from "../apps/registry-usage/ui/build.ts";

const REPOS = Number(process.env.BENCH_REPOS ?? 5000);
const TAGS = Number(process.env.BENCH_TAGS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const secret = "bench-dashboard-secret-0123456789";

await buildUi();
await using dir = await tempDir("ru-dash-bench-");
const driver = await openStorage(dir.path);
const store = createSnapshotStore({ driver, prefix: "", reloadIntervalMs: 60_000 });
const history = createHistory({ driver, prefix: "" });
const started = performance.now();
const snapshot = generateSnapshot(REPOS, TAGS);
await store.save(snapshot, undefined);
const totals = (await store.current())!.usage.totals;
for (let day = 365; day >= 0; day--) {
  const grow = 1 - day / 1000;
  await history.record(snapshot.timestamp - day * 86_400, {
    ...totals,
    size: Math.round(totals.size * grow),
  });
}
process.stdout.write(
  `snapshot: ${REPOS} repositories, ${REPOS * TAGS} tags, ${(await history.points()).length} history points (${Math.round(performance.now() - started)} ms to generate and size)\n`,
);

const app = createApp({
  config: { prefix: "", jwt: { secret, expiresInSeconds: 3600 }, visibility: { default: ["*"], users: {} } },
  store,
  history,
  ldap: { authenticate: async () => "bench" },
  logger: silentLogger(),
  metrics: createMetrics({ prefix: "b", defaultMetrics: false }),
});
await using server = Object.assign(await serveHttp(app.fetch, { port: 0, host: "127.0.0.1" }), {
  [Symbol.asyncDispose]() {
    return server.close();
  },
});
const token = await createIssuer({ algorithm: "HS256", secret }).issue(
  { type: "access" },
  { expiresIn: 3600, subject: "bench" },
);
const cookie = `registry_usage_session=${token}`;

/** Bytes on the wire (gzip when the server compresses) and milliseconds of one GET. */
function get(path: string, accept = "text/html"): Promise<{ bytes: number; ms: number; status: number }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      { headers: { cookie, accept, "accept-encoding": "gzip" } },
      (res) => {
        let bytes = 0;
        res.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
        });
        res.on("end", () => resolve({ bytes, ms: performance.now() - t, status: res.statusCode ?? 0 }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const repo = snapshot.repositories[123]!.name;
const pages: [string, string, string?][] = [
  ["overview (50 of 5,000, by exclusive size)", "/dashboard"],
  ["overview, page 60 sorted by name", "/dashboard?sort=name&page=60"],
  ["overview filtered by name", "/dashboard?q=app-49"],
  ["repository page", `/dashboard/repositories/${encodeURIComponent(repo)}`],
  [
    "freed by two tags (JSON)",
    `/freed?repository=${encodeURIComponent(repo)}&tag=v1&tag=v2`,
    "application/json",
  ],
  ["history (JSON, a year of daily points)", "/history", "application/json"],
  ["collection page (JSON, 50 items)", "/repositories?per_page=50&embed=1", "application/json"],
];
for (const [label, path, accept] of pages) {
  await get(path, accept);
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const res = await get(path, accept);
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
    times.push(res.ms);
  }
  process.stdout.write(`server ${label}: ${median(times).toFixed(1)} ms median of ${ROUNDS}\n`);
}

let weight = 0;
for (const asset of ["overview.js", "repository.js", "app.css"]) {
  const { bytes } = await get(`/assets/${asset}`);
  process.stdout.write(`asset ${asset}: ${(bytes / 1024).toFixed(1)} KiB gzip\n`);
  if (asset !== "repository.js") weight += bytes;
}
process.stdout.write(
  `overview JS + CSS transferred: ${(weight / 1024).toFixed(1)} KiB gzip (goal < 150 KB)\n`,
);

await using browser = await launchChromium();
const context = await browser.newContext();
await context.addCookies([{ name: "registry_usage_session", value: token, url: server.url }]);
const page = await context.newPage();

/** Milliseconds from navigation start until each of `selectors` is in the page. */
async function timeTo(path: string, ...selectors: string[]): Promise<number[]> {
  await page.goto(`${server.url}${path}`, { waitUntil: "commit" });
  const times: number[] = [];
  for (const selector of selectors) {
    await page.locator(selector).first().waitFor({ state: "attached", timeout: 120_000 });
    times.push(await page.evaluate(() => performance.now()));
  }
  return times;
}

const chart: number[] = [];
const bars: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const [bar, history] = await timeTo("/dashboard", "svg.bars rect.bar", "#history-chart canvas");
  bars.push(bar!);
  chart.push(history!);
}
const [reference = 0] = await timeTo("/repositories?embed=1", "table");
const firstChart = median(chart);
process.stdout.write(
  `browser: bar chart after ${median(bars).toFixed(0)} ms, both charts drawn after ${firstChart.toFixed(0)} ms (median of ${ROUNDS}, goal < 1000 ms); the API's HTML view of the same repositories: ${reference.toFixed(0)} ms\n`,
);
process.stdout.write(
  `registry-dashboard: ${firstChart.toFixed(0)} ms until both charts are drawn (${(firstChart / reference).toFixed(3)}x the API's HTML view of the same registry)\n`,
);
