/**
 * Upload and download of one AZURE_BENCH_MIB (default 256) MiB body through the azure storage driver
 * against `@azure/storage-blob` used directly (`uploadStream` with the same block size and
 * concurrency, `download`), on Azurite over loopback (one started for the run, or the one in
 * WHARF_AZURE_ENDPOINT/_ACCOUNT/_KEY). Rounds: AZURE_BENCH_ROUNDS (default 1). Then the peak RSS
 * growth of 4 parallel uploads of that size, driver against SDK.
 *
 * Ends with `azure-transfer: <MiB/s> MiB/s (<ratio>x @azure/storage-blob)` for upload+download together.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { createAzureDriver } from "@wharf/storage-driver/azure";
import { peakRssGrowth } from "@wharf/storage-driver/conformance/data";
import { freePort } from "@wharf/test-kit";

const mib = Number(process.env.AZURE_BENCH_MIB ?? 256);
const rounds = Number(process.env.AZURE_BENCH_ROUNDS ?? 1);
const bytes = mib * 1024 * 1024;
const blockSize = 8 * 1024 * 1024;
const concurrency = 4;

async function azurite(): Promise<{ endpoint: string; account: string; key: string } & AsyncDisposable> {
  const { WHARF_AZURE_ENDPOINT: endpoint, WHARF_AZURE_ACCOUNT: account, WHARF_AZURE_KEY: key } = process.env;
  if (endpoint && account && key) return { endpoint, account, key, [Symbol.asyncDispose]: async () => {} };
  const infra = new URL("../infra/azurite/", import.meta.url).pathname;
  const data = await mkdtemp(join(tmpdir(), "azure-bench-"));
  const started = spawnSync("bash", [`${infra}start.sh`, String(await freePort()), join(data, "azurite")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (started.status !== 0) throw new Error("infra/azurite/start.sh failed");
  const vars = Object.fromEntries(
    started.stdout
      .trim()
      .split("\n")
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  return {
    endpoint: vars.WHARF_AZURE_ENDPOINT,
    account: vars.WHARF_AZURE_ACCOUNT,
    key: vars.WHARF_AZURE_KEY,
    [Symbol.asyncDispose]: async () => {
      spawnSync("bash", [`${infra}stop.sh`, join(data, "azurite"), "--wipe"], { stdio: "inherit" });
      await rm(data, { recursive: true, force: true });
    },
  };
}

/** `size` bytes of one random MiB repeated, of unknown length to the consumer. */
const chunk = randomBytes(1024 * 1024);
function body(size: number): Readable {
  let left = size;
  return new Readable({
    read() {
      const n = Math.min(chunk.length, left);
      left -= n;
      this.push(n === 0 ? null : chunk.subarray(0, n));
    },
  });
}

async function drain(stream: NodeJS.ReadableStream): Promise<number> {
  let total = 0;
  for await (const part of stream as AsyncIterable<Buffer>) total += part.length;
  return total;
}

async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

if (process.argv[2] === "rss") {
  // Child: 4 parallel uploads by one side into the parent's container; prints the peak RSS growth.
  const client = new BlobServiceClient(
    process.env.WHARF_AZURE_ENDPOINT!,
    new StorageSharedKeyCredential(process.env.WHARF_AZURE_ACCOUNT!, process.env.WHARF_AZURE_KEY!),
  );
  const container = client.getContainerClient(process.env.AZURE_BENCH_CONTAINER!);
  const driver = createAzureDriver({
    service: client,
    container: container.containerName,
    blockSize,
    concurrency,
  });
  const upload: (i: number) => Promise<unknown> =
    process.argv[3] === "driver"
      ? (i: number) => driver.put(`parallel-${i}.bin`, body(bytes))
      : (i: number) =>
          container
            .getBlockBlobClient(`sdk-parallel-${i}.bin`)
            .uploadStream(body(bytes), blockSize, concurrency);
  const growth = await peakRssGrowth(async () => {
    await Promise.all([0, 1, 2, 3].map(upload));
  });
  process.stdout.write(`${growth / 1024 / 1024}\n`);
  process.exit(0);
}

await using service = await azurite();
const client = new BlobServiceClient(
  service.endpoint,
  new StorageSharedKeyCredential(service.account, service.key),
);
const container = client.getContainerClient(`azure-bench-${Date.now().toString(36)}`);
await container.create();
try {
  const driver = createAzureDriver({
    service: client,
    container: container.containerName,
    blockSize,
    concurrency,
  });
  const times = {
    driverUp: [] as number[],
    sdkUp: [] as number[],
    driverDown: [] as number[],
    sdkDown: [] as number[],
  };
  for (let round = 0; round < rounds; round++) {
    const sdkUp = async () =>
      times.sdkUp.push(
        await seconds(() =>
          container.getBlockBlobClient("sdk.bin").uploadStream(body(bytes), blockSize, concurrency),
        ),
      );
    const driverUp = async () =>
      times.driverUp.push(await seconds(() => driver.put("driver.bin", body(bytes))));
    // Rounds alternate which side goes first.
    if (round % 2 === 0) {
      await sdkUp();
      await driverUp();
    } else {
      await driverUp();
      await sdkUp();
    }
    times.sdkDown.push(
      await seconds(async () =>
        drain((await container.getBlobClient("sdk.bin").download()).readableStreamBody!),
      ),
    );
    times.driverDown.push(await seconds(async () => drain((await driver.get("driver.bin")).body)));
  }
  const rate = (s: number[]) => mib / median(s);
  const line = (what: string, ours: number, theirs: number) =>
    process.stdout.write(
      `azure driver ${what} ${mib} MiB: ${ours.toFixed(0)} MiB/s (${(ours / theirs).toFixed(2)}x @azure/storage-blob at ${theirs.toFixed(0)} MiB/s)\n`,
    );
  line("upload", rate(times.driverUp), rate(times.sdkUp));
  line("download", rate(times.driverDown), rate(times.sdkDown));

  // Each side in a process of its own: RSS a process freed is not given back, so a second
  // measurement in the same process would start with the first one's memory already mapped.
  const rss = (who: string) => {
    const child = spawnSync(
      process.execPath,
      ["--expose-gc", new URL(import.meta.url).pathname, "rss", who],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        env: {
          ...process.env,
          WHARF_AZURE_ENDPOINT: service.endpoint,
          WHARF_AZURE_ACCOUNT: service.account,
          WHARF_AZURE_KEY: service.key,
          AZURE_BENCH_CONTAINER: container.containerName,
        },
      },
    );
    if (child.status !== 0) throw new Error(`rss ${who} failed`);
    return Number(child.stdout.trim());
  };
  const driverRss = rss("driver");
  const sdkRss = rss("sdk");
  process.stdout.write(
    `azure driver 4 parallel ${mib} MiB uploads: peak RSS growth ${driverRss.toFixed(0)} MiB (SDK uploadStream: ${sdkRss.toFixed(0)} MiB)\n`,
  );
  const both = (2 * mib) / (median(times.driverUp) + median(times.driverDown));
  const bothSdk = (2 * mib) / (median(times.sdkUp) + median(times.sdkDown));
  process.stdout.write(
    `azure-transfer: ${both.toFixed(0)} MiB/s (${(both / bothSdk).toFixed(2)}x @azure/storage-blob)\n`,
  );
} finally {
  await container.deleteIfExists();
}
