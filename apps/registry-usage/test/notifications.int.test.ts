import { randomUUID } from "node:crypto";
import { createMetrics, type RunningServer, serveHttp, silentLogger } from "@wharf/http-kit";
import { createMemoryDriver } from "@wharf/storage-driver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { createDirtyMarks, type DirtyMarks } from "../src/dirty-marks.ts";
import { eventsMediaType } from "../src/events.ts";
import { createRefresher } from "../src/refresher.ts";
import { createRegistryClient, type RegistryClient, type RequestCounts } from "../src/registry-client.ts";
import { createSnapshotStore, type SnapshotStore } from "../src/snapshot-store.ts";
import { expectedUsage, type RegistryFixture, startRegistryFixture } from "./fixture.ts";

/**
 * docker-registry 2.8 configured with a notifications endpoint pointing at the app's `POST /events`:
 * pushes, retags and deletes reach the store as dirty marks, and the next pass reads only those
 * repositories.
 */
const notifySecret = `notify-${randomUUID()}`;
const clock = { now: Date.now() };
let fx: RegistryFixture;
let server: RunningServer;
let store: SnapshotStore;
let marks: DirtyMarks;
let client: RegistryClient;
let refresher: ReturnType<typeof createRefresher>;
let hook: ((repo: string) => Promise<void>) | undefined;

/** Sentinels seen in delivered notifications (the user agent of a pull); `until` waits for one. */
const arrivals = {
  seen: new Set<string>(),
  waiters: [] as { sentinel: string; resolve: () => void }[],
  until(sentinel: string): Promise<void> {
    if (this.seen.has(sentinel)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ sentinel, resolve }));
  },
  add(envelope: { events?: { action?: string; request?: { useragent?: string } }[] }): void {
    for (const event of envelope.events ?? [])
      if (event.action === "pull" && event.request?.useragent) this.seen.add(event.request.useragent);
    const ready = this.waiters.filter((w) => this.seen.has(w.sentinel));
    this.waiters = this.waiters.filter((w) => !this.seen.has(w.sentinel));
    for (const w of ready) w.resolve();
  },
};

let sentinels = 0;
/**
 * Runs `action` (pushes, deletes), then waits until the registry has delivered every event it
 * caused: the registry delivers an endpoint's events in order, so once the pull event of a
 * sentinel GET made afterwards arrives, all earlier ones have been recorded.
 */
async function change(action: () => Promise<void>): Promise<void> {
  await action();
  const sentinel = `sentinel-${++sentinels}`;
  const arrived = arrivals.until(sentinel);
  const res = await fetch(`${fx.registry.url}/v2/group/sub/app-c/manifests/v1`, {
    headers: { "user-agent": sentinel, accept: "application/vnd.oci.image.manifest.v1+json" },
  });
  if (res.status !== 200) throw new Error(`sentinel pull answered ${res.status}`);
  await res.arrayBuffer();
  await arrived;
}

async function pass() {
  const before: RequestCounts = { ...client.counts };
  clock.now += 31_000; // past the notification interval
  const result = await refresher.tick();
  const delta = Object.fromEntries(
    Object.entries(client.counts)
      .map(([k, v]) => [k, v - before[k as keyof RequestCounts]])
      .filter(([, v]) => v !== 0),
  );
  return { result, delta, status: await store.readStatus(), usage: (await store.current())!.usage };
}

beforeAll(async () => {
  const driver = createMemoryDriver();
  const now = () => clock.now;
  store = createSnapshotStore({ driver, prefix: "ru/", reloadIntervalMs: 0, now });
  marks = createDirtyMarks({ driver, prefix: "ru/", now });
  const app = createApp({
    config: {
      prefix: "",
      jwt: { secret: "notifications-test-jwt-secret", expiresInSeconds: 3600 },
      visibility: { default: ["*"], users: {} },
    },
    store,
    ldap: { authenticate: async () => "nobody" },
    logger: silentLogger(),
    metrics: createMetrics({ prefix: "t" }),
    notifications: { config: { secret: notifySecret, path: "/events", header: "Authorization" }, marks },
  });
  server = await serveHttp(
    async (request: Request) => {
      const copy = request.clone();
      const response = await app.fetch(request);
      if (new URL(request.url).pathname === "/events" && response.status === 200) {
        arrivals.add(JSON.parse(await copy.text()));
      }
      return response;
    },
    { port: 0, host: "127.0.0.1" },
  );
  fx = await startRegistryFixture({ notifications: { url: `${server.url}/events`, secret: notifySecret } });
  const real = createRegistryClient({ url: fx.registry.url, concurrency: 4, timeoutMs: 10_000 });
  client = {
    ...real,
    async tags(repo: string) {
      await hook?.(repo);
      return real.tags(repo);
    },
  };
  refresher = createRefresher({
    store,
    client,
    holder: "it",
    refreshIntervalSeconds: 3600,
    leaseSeconds: 60,
    pageSize: 100,
    notifications: { marks, intervalSeconds: 30, reconcileIntervalSeconds: 86_400 },
    now,
  });
  await change(async () => {
    await fx.push("a1", "group/app", "v1");
    await fx.push("a2", "group/app", "v2");
    await fx.push("a2", "group/app", "latest");
    await fx.push("c1", "group/sub/app-c", "v1");
    await fx.push("multi", "group/multi", "latest");
    await fx.push("tiny", "other/tiny", "t");
  });
}, 120_000);

afterAll(async () => {
  await refresher?.stop();
  await fx?.[Symbol.asyncDispose]();
  await server?.close();
});

describe("registry notifications against docker-registry 2.8", () => {
  it("reads everything once, then makes no registry request while nothing changes", async () => {
    const first = await pass();
    expect(first.result).toBe("scanned");
    expect(first.status.mode).toBe("full");
    expect(await marks.pending()).toBe(false);
    expect(await marks.firstEventAt()).toBeDefined();
    const idle = await pass();
    expect([idle.result, idle.delta]).toEqual(["idle", {}]);
  });

  it("after a push and a retag, lists and HEADs only that repository and GETs only the new manifest", async () => {
    await change(async () => {
      await fx.push("a3", "group/app", "v3");
      await fx.push("a1", "group/app", "latest");
    });
    const { result, delta, status, usage } = await pass();
    expect(result).toBe("scanned");
    expect(status).toMatchObject({ mode: "events", dirty_repositories: 1 });
    expect(delta).toEqual({ tags: 1, manifestHead: 4, manifestGet: 1 });
    const want = expectedUsage(fx);
    const app = usage.byName.get("group/app")!;
    expect(app.tags?.map((t) => [t.name, t.digest])).toEqual([
      ["latest", fx.layout.refs.a1!.descriptor.digest],
      ["v1", fx.layout.refs.a1!.descriptor.digest],
      ["v2", fx.layout.refs.a2!.descriptor.digest],
      ["v3", fx.layout.refs.a3!.descriptor.digest],
    ]);
    expect(app.size).toBe(want.repos.get("group/app")!.size);
    expect(usage.totals.unique_size).toBe(want.unique);
  });

  it("after a delete, lists only that repository", async () => {
    await change(() => fx.deleteTag("other/tiny", "t"));
    const { delta, usage } = await pass();
    expect(delta).toEqual({ tags: 1 });
    expect(usage.byName.get("other/tiny")).toMatchObject({ tags: [], size: 0, tag_count: 0 });
    expect(usage.totals.unique_size).toBe(expectedUsage(fx).unique);
  });

  it("reads the catalog for a repository it has not seen", async () => {
    await change(() => fx.push("tiny", "fresh/repo", "x"));
    const { delta, usage } = await pass();
    // The manifest left the snapshot with other/tiny:t, so it is read again.
    expect(delta).toEqual({ catalog: 1, tags: 1, manifestHead: 1, manifestGet: 1 });
    expect(usage.byName.get("fresh/repo")?.size).toBe(expectedUsage(fx).repos.get("fresh/repo")!.size);
  });

  it("keeps events that arrive during a pass for the next pass", async () => {
    await change(() => fx.push("c1", "group/sub/app-c", "v2"));
    hook = async (repo) => {
      if (repo === "group/sub/app-c") await change(() => fx.push("a2", "late/comer", "1"));
    };
    const during = await pass();
    hook = undefined;
    expect(during.delta).toEqual({ tags: 1, manifestHead: 2 });
    expect(during.usage.byName.has("late/comer")).toBe(false);
    expect([...(await marks.read()).repositories]).toEqual(["late/comer"]);
    const next = await pass();
    expect(next.delta).toEqual({ catalog: 1, tags: 1, manifestHead: 1 });
    expect(next.usage.byName.get("late/comer")?.size).toBe(expectedUsage(fx).repos.get("late/comer")!.size);
    expect(next.usage.totals.unique_size).toBe(expectedUsage(fx).unique);
  });

  it("refuses a notification with a wrong secret with 401 and records nothing", async () => {
    const body = JSON.stringify({
      events: [
        { action: "push", target: { repository: "group/app", tag: "evil", mediaType: eventsMediaType } },
      ],
    });
    for (const authorization of [`Bearer ${notifySecret}-wrong`, "", `Basic ${notifySecret}`]) {
      const res = await fetch(`${server.url}/events`, {
        method: "POST",
        body,
        headers: { "content-type": eventsMediaType, ...(authorization ? { authorization } : {}) },
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe("UNAUTHENTICATED");
    }
    expect(await marks.pending()).toBe(false);
    expect((await pass()).delta).toEqual({});
  });
});
