import { createLogger } from "@wharf/http-kit";
import type { StorageDriver } from "@wharf/storage-driver";
import { createTestBucket, s3Client, swiftS3Env, type TestBucket } from "@wharf/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDirtyMarks } from "../src/dirty-marks.ts";
import { openUsageStore } from "../src/open-store.ts";
import { createSnapshotStore } from "../src/snapshot-store.ts";

// Swift's s3api answers 501 to conditional PUTs (issue 21 §3): the lease, snapshot and event
// marks used to fail there with INTERNAL.
describe("registry-usage state on a store without conditional writes (Swift s3api)", () => {
  let bucket: TestBucket;
  let driver: StorageDriver;
  const logged: string[] = [];
  // registry-usage takes S3 credentials from the AWS chain, as deployed: the environment here.
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  beforeAll(async () => {
    const env = swiftS3Env();
    bucket = await createTestBucket("ru-swift", { client: s3Client({ env }) });
    process.env.AWS_ACCESS_KEY_ID = env.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = env.secretAccessKey;
    const logger = createLogger({
      name: "registry-usage",
      level: "warn",
      destination: { write: (line: string) => logged.push(line) },
    });
    driver = await openUsageStore(`s3://${bucket.name}?endpoint=${encodeURIComponent(env.endpoint)}`, logger);
  });
  afterAll(async () => {
    for (const [name, value] of [
      ["AWS_ACCESS_KEY_ID", saved.id],
      ["AWS_SECRET_ACCESS_KEY", saved.secret],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await driver?.close();
    await bucket?.[Symbol.asyncDispose]();
  });

  it("warns at start to run one replica, then takes the lease and stores snapshots and marks", async () => {
    expect(logged.join("")).toMatch(/no conditional writes.*single replica/);
    const store = createSnapshotStore({ driver, prefix: "ru/", reloadIntervalMs: 0 });
    expect(await store.acquireLease("replica-a", 60_000)).toBe(true);
    expect(await store.acquireLease("replica-b", 60_000)).toBe(false);
    const snapshot = { version: 1, timestamp: 1, repositories: [], manifests: {}, blobSizes: {} } as const;
    await store.save(snapshot, undefined);
    const first = await store.current();
    expect(first?.snapshot.timestamp).toBe(1);
    await store.save({ ...snapshot, timestamp: 2 }, first?.etag);
    expect((await store.current())?.snapshot.timestamp).toBe(2);
    await store.releaseLease("replica-a");
    expect(await store.acquireLease("replica-b", 60_000)).toBe(true);
    const marks = createDirtyMarks({ driver, prefix: "ru/" });
    await marks.noteSeen();
    await marks.record(["team/app"]);
    expect((await driver.list({ prefix: "ru/events/" })).objects).toHaveLength(1);
  });
});
