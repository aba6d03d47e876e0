import { WharfError } from "@wharf/errors";
import { createMemoryDriver } from "@wharf/storage-driver";
import { describe, expect, it } from "vitest";
import { mediaTypes } from "./manifest.ts";
import { createRefresher } from "./refresher.ts";
import { emptyCounts, type RegistryClient } from "./registry-client.ts";
import { createSnapshotStore } from "./snapshot-store.ts";

const digest = `sha256:${"a".repeat(64)}`;

/** A registry of one repository with one tag, that can be switched off. */
function stubClient() {
  const state = { down: false };
  const counts = emptyCounts();
  const client = {
    counts,
    async catalog() {
      counts.catalog++;
      if (state.down) throw new WharfError("UNAVAILABLE", "registry down");
      return ["group/app"];
    },
    async tags() {
      counts.tags++;
      return ["latest"];
    },
    async headManifest() {
      counts.manifestHead++;
      return { digest, mediaType: mediaTypes.ociManifest };
    },
    async getManifest() {
      counts.manifestGet++;
      return {
        digest,
        mediaType: mediaTypes.ociManifest,
        record: {
          kind: "image" as const,
          mediaType: mediaTypes.ociManifest,
          config: { digest: `sha256:${"c".repeat(64)}`, size: 5 },
          layers: [{ digest: `sha256:${"l".repeat(64)}`, size: 100 }],
        },
      };
    },
    async blobSize() {
      counts.blobHead++;
      return 0;
    },
  } as unknown as RegistryClient;
  return { client, state };
}

function replica(driver = createMemoryDriver(), clock = { now: 1_000_000 }, holder = "r1") {
  const store = createSnapshotStore({ driver, prefix: "ru/", reloadIntervalMs: 0, now: () => clock.now });
  const { client, state } = stubClient();
  const refresher = createRefresher({
    store,
    client,
    holder,
    refreshIntervalSeconds: 3600,
    leaseSeconds: 60,
    pageSize: 100,
    retrySeconds: 30,
    now: () => clock.now,
  });
  return { store, client, state, refresher, driver, clock };
}

describe("refresher", () => {
  it("scans when due, then stays idle until the interval has passed", async () => {
    const r = replica();
    expect(await r.refresher.tick()).toBe("scanned");
    expect((await r.store.current())?.usage.totals.size).toBe(105);
    r.clock.now += 60_000;
    expect(await r.refresher.tick()).toBe("idle");
    r.clock.now += 3600_000;
    expect(await r.refresher.tick()).toBe("scanned");
    expect(await r.store.readStatus()).toMatchObject({
      state: "ok",
      mode: "incremental",
      requests: { manifestHead: 1, manifestGet: 0 },
    });
  });

  it("keeps serving the last good snapshot when a pass fails, exposes the error and retries with backoff", async () => {
    const r = replica();
    await r.refresher.tick();
    const good = await r.store.current();
    r.state.down = true;
    r.clock.now += 3601_000;
    expect(await r.refresher.tick()).toBe("failed");
    expect((await r.store.current())?.snapshot).toEqual(good?.snapshot);
    expect(await r.store.readStatus()).toMatchObject({
      state: "failed",
      consecutive_failures: 1,
      last_error: "registry down",
    });
    r.clock.now += 20_000;
    expect(await r.refresher.tick()).toBe("idle");
    r.clock.now += 15_000;
    expect(await r.refresher.tick()).toBe("failed");
    r.clock.now += 45_000; // the second retry waits 60 s
    expect(await r.refresher.tick()).toBe("idle");
    r.state.down = false;
    r.clock.now += 20_000;
    expect(await r.refresher.tick()).toBe("scanned");
    expect(await r.store.readStatus()).toMatchObject({ state: "ok", consecutive_failures: 0 });
  });

  it("lets one replica scan while the others stand by, and hands over when its lease expires", async () => {
    const driver = createMemoryDriver();
    const clock = { now: 1_000_000 };
    const a = replica(driver, clock, "a");
    const b = replica(driver, clock, "b");
    expect(await a.refresher.tick()).toBe("scanned");
    expect(await b.refresher.tick()).toBe("standby");
    expect(b.client.counts.catalog).toBe(0);
    clock.now += 61_000;
    expect(await b.refresher.tick()).toBe("idle"); // lease taken over; the stored status says not due
    expect(await a.refresher.tick()).toBe("standby");
  });

  it("serves the stored snapshot at once from a fresh replica (restart)", async () => {
    const first = replica();
    await first.refresher.tick();
    const restarted = createSnapshotStore({ driver: first.driver, prefix: "ru/", reloadIntervalMs: 1000 });
    expect((await restarted.current())?.usage.byName.get("group/app")?.size).toBe(105);
  });

  it("does not overwrite a snapshot another scanner stored meanwhile", async () => {
    const r = replica();
    await r.refresher.tick();
    const stale = await r.store.current();
    await r.store.save({ ...stale!.snapshot, timestamp: 2 }, stale!.etag);
    const error = await r.store
      .save({ ...stale!.snapshot, timestamp: 3 }, stale!.etag)
      .catch((e: unknown) => e);
    expect((error as WharfError).code).toBe("PRECONDITION_FAILED");
  });
});
