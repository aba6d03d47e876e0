import { WharfError } from "@wharf/errors";
import { createMemoryDriver } from "@wharf/storage-driver";
import { describe, expect, it } from "vitest";
import { createDirtyMarks } from "./dirty-marks.ts";
import { createHistory } from "./history.ts";
import { mediaTypes } from "./manifest.ts";
import { createRefresher } from "./refresher.ts";
import { emptyCounts, type RegistryClient } from "./registry-client.ts";
import { createSnapshotStore } from "./snapshot-store.ts";

const digest = `sha256:${"a".repeat(64)}`;

/** A registry of repositories with one tag each (default: one), that can be switched off. */
function stubClient(repos: readonly string[] = ["group/app"]) {
  const state: { down: boolean; onTags?: (repo: string) => Promise<void> } = { down: false };
  const counts = emptyCounts();
  const client = {
    counts,
    async catalog() {
      counts.catalog++;
      if (state.down) throw new WharfError("UNAVAILABLE", "registry down");
      return [...repos];
    },
    async tags(repo: string) {
      counts.tags++;
      await state.onTags?.(repo);
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

function replica(
  driver = createMemoryDriver(),
  clock = { now: 1_000_000 },
  holder = "r1",
  options: { repos?: readonly string[]; notifications?: boolean } = {},
) {
  const store = createSnapshotStore({ driver, prefix: "ru/", reloadIntervalMs: 0, now: () => clock.now });
  const { client, state } = stubClient(options.repos);
  const marks = createDirtyMarks({ driver, prefix: "ru/", now: () => clock.now });
  const refresher = createRefresher({
    store,
    client,
    holder,
    refreshIntervalSeconds: 3600,
    leaseSeconds: 60,
    pageSize: 100,
    retrySeconds: 30,
    ...(options.notifications
      ? { notifications: { marks, intervalSeconds: 30, reconcileIntervalSeconds: 86_400 } }
      : {}),
    now: () => clock.now,
  });
  return { store, client, state, refresher, driver, clock, marks };
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

describe("refresher with registry notifications", () => {
  const repos = ["a/one", "b/two", "c/three"];
  const counts = (r: ReturnType<typeof replica>) => ({ ...r.client.counts });
  const delta = (r: ReturnType<typeof replica>, before: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(r.client.counts)
        .map(([k, v]) => [k, v - (before[k] ?? 0)])
        .filter(([, v]) => v !== 0),
    );

  /** Events received, then a reconciling first pass: from here on passes are event-driven. */
  async function eventDriven() {
    const r = replica(undefined, undefined, "r1", { repos, notifications: true });
    await r.marks.noteSeen();
    r.clock.now += 1000;
    expect(await r.refresher.tick()).toBe("scanned");
    return r;
  }

  it("rescans only the repositories marked dirty, interval after the last pass, and clears their marks", async () => {
    const r = await eventDriven();
    r.clock.now += 10_000;
    await r.marks.record(["b/two"]);
    expect(await r.refresher.tick()).toBe("idle"); // the notification interval (30 s) has not passed
    r.clock.now += 25_000;
    const before = counts(r);
    expect(await r.refresher.tick()).toBe("scanned");
    expect(delta(r, before)).toEqual({ tags: 1, manifestHead: 1 });
    expect(await r.store.readStatus()).toMatchObject({ mode: "events", dirty_repositories: 1 });
    expect(await r.marks.pending()).toBe(false);
    r.clock.now += 60_000;
    expect(await r.refresher.tick()).toBe("idle"); // no marks: nothing to do until the interval
  });

  it("keeps marks written while a pass runs for the next pass", async () => {
    const r = await eventDriven();
    await r.marks.record(["a/one"]);
    r.state.onTags = async (repo) => {
      if (repo === "a/one") await r.marks.record(["c/three"]);
    };
    r.clock.now += 31_000;
    expect(await r.refresher.tick()).toBe("scanned");
    r.state.onTags = undefined;
    expect([...(await r.marks.read()).repositories]).toEqual(["c/three"]);
    r.clock.now += 31_000;
    const before = counts(r);
    expect(await r.refresher.tick()).toBe("scanned");
    expect(delta(r, before)).toEqual({ tags: 1, manifestHead: 1 });
  });

  it("keeps the marks when the pass fails", async () => {
    const r = await eventDriven();
    await r.marks.record(["a/one"]);
    r.state.onTags = async () => {
      throw new WharfError("UNAVAILABLE", "registry down");
    };
    r.clock.now += 31_000;
    expect(await r.refresher.tick()).toBe("failed");
    expect([...(await r.marks.read()).repositories]).toEqual(["a/one"]);
  });

  it("reads the catalog when an event names a repository the snapshot does not have", async () => {
    const r = await eventDriven();
    await r.marks.record(["d/new"]);
    r.clock.now += 31_000;
    const before = counts(r);
    expect(await r.refresher.tick()).toBe("scanned");
    // The stub's catalog does not list d/new: the catalog wins, nothing else is read.
    expect(delta(r, before)).toEqual({ catalog: 1 });
  });

  it("checks every tag when no event was ever received, and after the reconciliation interval", async () => {
    const r = replica(undefined, undefined, "r1", { repos, notifications: true });
    expect(await r.refresher.tick()).toBe("scanned");
    r.clock.now += 3601_000;
    expect(await r.refresher.tick()).toBe("scanned");
    expect(await r.store.readStatus()).toMatchObject({ mode: "incremental", requests: { manifestHead: 3 } });

    // The first event arrives after that pass: the next pass still checks every tag, then events rule.
    r.clock.now += 1000;
    await r.marks.noteSeen();
    await r.marks.record(["a/one"]);
    r.clock.now += 31_000;
    expect(await r.refresher.tick()).toBe("scanned");
    expect(await r.store.readStatus()).toMatchObject({ mode: "incremental" });
    await r.marks.record(["a/one"]);
    r.clock.now += 31_000;
    expect(await r.refresher.tick()).toBe("scanned");
    expect(await r.store.readStatus()).toMatchObject({ mode: "events", requests: { manifestHead: 1 } });

    const reconciled = (await r.store.readStatus()).last_reconciliation!;
    r.clock.now = reconciled * 1000 + 86_400_000;
    expect(await r.refresher.tick()).toBe("scanned");
    expect(await r.store.readStatus()).toMatchObject({
      mode: "incremental",
      requests: { catalog: 1, manifestHead: 3 },
      last_reconciliation: r.clock.now / 1000,
    });
  });
});

describe("refresher history", () => {
  it("records the totals after a pass that changed them, and only then", async () => {
    const driver = createMemoryDriver();
    const clock = { now: 1_000_000 };
    const history = createHistory({ driver, prefix: "ru/", now: () => clock.now });
    const pass = async (repos: string[]) => {
      const store = createSnapshotStore({ driver, prefix: "ru/", reloadIntervalMs: 0, now: () => clock.now });
      const refresher = createRefresher({
        store,
        client: stubClient(repos).client,
        history,
        holder: "r1",
        refreshIntervalSeconds: 3600,
        leaseSeconds: 60,
        pageSize: 100,
        now: () => clock.now,
      });
      expect(await refresher.tick()).toBe("scanned");
      clock.now += 86_400_000;
    };
    await pass(["group/app"]);
    await pass(["group/app"]);
    expect((await history.points()).map((p) => [p.repository_count, p.tag_count, p.size])).toEqual([
      [1, 1, 105],
    ]);
    await pass(["group/app", "group/lib"]);
    expect((await history.points()).map((p) => [p.repository_count, p.tag_count, p.size])).toEqual([
      [1, 1, 105],
      [2, 2, 210],
    ]);
  });
});
