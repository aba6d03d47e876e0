import { isWharfError } from "@wharf/errors";
import { buildOciLayout, skopeoCopy, startRegistry, tempDir } from "@wharf/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crawl, type Snapshot } from "../src/crawl.ts";
import { mediaTypes } from "../src/manifest.ts";
import { createRegistryClient, emptyCounts, type RequestCounts } from "../src/registry-client.ts";
import { computeUsage } from "../src/usage.ts";
import {
  blobsOfImages,
  expectedUsage,
  type RegistryFixture,
  startRegistryFixture,
  total,
} from "./fixture.ts";
import { startTokenRealm } from "./token-realm.ts";

let fx: RegistryFixture;

beforeAll(async () => {
  fx = await startRegistryFixture();
  await fx.push("a1", "group/app", "v1");
  await fx.push("a2", "group/app", "v2");
  await fx.push("a2", "group/app", "latest");
  await fx.push("c1", "group/sub/app-c", "v1");
  await fx.push("multi", "group/multi", "latest");
  await fx.push("tiny", "other/tiny", "t");
  await fx.push("a1", "group/app-docker", "v1", "v2s2");
  await fx.push("multi", "group/multi-docker", "latest", "v2s2");
  await fx.push("legacy", "legacy/schema1", "old", "v2s1");
}, 120_000);

afterAll(async () => {
  await fx?.[Symbol.asyncDispose]();
});

const client = () => createRegistryClient({ url: fx.registry.url, concurrency: 4, timeoutMs: 10_000 });

async function pass(previous?: Snapshot, pageSize = 1000) {
  const c = client();
  const snapshot = await crawl(c, { pageSize, ...(previous ? { previous } : {}) });
  return { snapshot, counts: { ...c.counts } as RequestCounts, usage: computeUsage(snapshot) };
}

const expected = () => expectedUsage(fx);

describe("collector against docker-registry 2.8", () => {
  it("sizes every tag as config + layers, matching the pushed blobs, for every manifest kind", async () => {
    const { usage } = await pass();
    const want = expected();
    const seen = new Map<string, number>();
    for (const repo of usage.repositories)
      for (const tag of repo.tags ?? []) seen.set(`${repo.name}:${tag.name}`, tag.size);
    expect(Object.fromEntries(seen)).toEqual(
      Object.fromEntries([...want.tags].map(([k, b]) => [k, total(b)])),
    );
    const kinds = Object.fromEntries(
      usage.repositories.flatMap((r) =>
        (r.tags ?? []).map((t) => [`${r.name}:${t.name}`, [t.kind, t.media_type]]),
      ),
    );
    expect(kinds["group/app:v1"]).toEqual(["image", mediaTypes.ociManifest]);
    expect(kinds["group/multi:latest"]).toEqual(["index", mediaTypes.ociIndex]);
    expect(kinds["group/app-docker:v1"]).toEqual(["image", mediaTypes.dockerManifest]);
    expect(kinds["group/multi-docker:latest"]).toEqual(["index", mediaTypes.dockerList]);
    expect(kinds["legacy/schema1:old"]).toEqual(["schema1", mediaTypes.dockerSchema1Signed]);
  });

  it("reports per-platform sizes of a multi-arch index", async () => {
    const { usage } = await pass();
    const multi = usage.byName.get("group/multi")!.tags![0]!;
    const images = fx.layout.refs.multi!.images;
    expect(multi.platforms?.map((p) => [p.platform, p.digest, p.size])).toEqual(
      images.map((image) => [
        `linux/${image.platform.architecture}`,
        image.manifest.digest,
        total(blobsOfImages([image])),
      ]),
    );
  });

  it("computes repository size, unique, exclusive and shared bytes, and a registry total that adds up", async () => {
    const { usage } = await pass();
    const want = expected();
    for (const [name, repo] of want.repos) {
      const got = usage.byName.get(name)!;
      expect([name, got.size, got.unique_size, got.exclusive_size, got.shared_size]).toEqual([
        name,
        repo.size,
        repo.unique,
        repo.exclusive,
        repo.unique - repo.exclusive,
      ]);
    }
    expect(usage.totals.unique_size).toBe(want.unique);
    expect(usage.totals.disk_size).toBe(want.unique);
    expect(usage.totals.exclusive_size + usage.totals.shared_size).toBe(want.unique);
  });

  it("follows catalog pagination (Link rel=next) page by page", async () => {
    const c = client();
    const names = await c.catalog(2);
    expect(names).toEqual([...fx.pushed.keys()].sort());
    expect(c.counts.catalog).toBeGreaterThanOrEqual(Math.ceil(names.length / 2));
    expect(c.counts.catalog).toBeLessThanOrEqual(Math.ceil(names.length / 2) + 1);
  });

  it("reads blob sizes of schema-1 layers with blob HEADs, once per digest", async () => {
    const { counts, usage } = await pass();
    expect(counts.blobHead).toBe(fx.layout.refs.legacy!.images[0]!.layers.length);
    expect(usage.byName.get("legacy/schema1")!.size).toBe(total(fx.blobs("legacy/schema1", "old")));
  });

  it("re-reads only manifests whose digest changed: adds, retags and deletes show up after the next pass", async () => {
    const first = await pass();
    const tagCount = [...fx.pushed.values()].reduce((n, tags) => n + tags.size, 0);
    // Full pass: one GET per tag plus one per index child, no HEADs.
    expect(first.counts.manifestHead).toBe(0);
    expect(first.counts.manifestGet).toBe(tagCount + 4);

    const idle = await pass(first.snapshot);
    expect(idle.counts).toMatchObject({
      manifestHead: tagCount,
      manifestGet: 0,
      blobHead: 0,
      tags: fx.pushed.size,
    });
    expect(idle.usage.totals).toEqual(first.usage.totals);

    await fx.push("a3", "group/app", "v3"); // new digest
    await fx.push("a1", "group/app", "latest"); // retag to a known digest
    await fx.deleteTag("other/tiny", "t");
    const changed = await pass(idle.snapshot);
    expect(changed.counts.manifestGet).toBe(1);
    expect(changed.counts.manifestHead).toBe(tagCount + 1 - 1);
    const app = changed.usage.byName.get("group/app")!;
    expect(app.tags?.map((t) => [t.name, t.digest])).toEqual([
      ["latest", fx.layout.refs.a1!.descriptor.digest],
      ["v1", fx.layout.refs.a1!.descriptor.digest],
      ["v2", fx.layout.refs.a2!.descriptor.digest],
      ["v3", fx.layout.refs.a3!.descriptor.digest],
    ]);
    expect(changed.usage.byName.get("other/tiny")).toMatchObject({ tags: [], size: 0, tag_count: 0 });
    const want = expected();
    expect(app.size).toBe(want.repos.get("group/app")!.size);
    expect(changed.usage.totals.unique_size).toBe(want.unique);
  });

  it("fails the pass when the registry is unreachable", async () => {
    const c = createRegistryClient({ url: "http://127.0.0.1:9", concurrency: 2, timeoutMs: 2000 });
    const error = await crawl(c, { pageSize: 100 }).catch((e: unknown) => e);
    expect(isWharfError(error, "UNAVAILABLE")).toBe(true);
  });
});

describe("registry authentication", () => {
  async function pushOne(registry: { host: string }, creds: { username: string; password: string }) {
    await using dir = await tempDir("ru-auth-");
    const layout = await buildOciLayout(dir.path, [
      { ref: "x", image: { layers: [{ seed: `auth-${Date.now()}`, size: 3000 }] } },
    ]);
    await skopeoCopy({ layout, ref: "x", registry: registry.host, repository: "team/x", tag: "1", creds });
    return total(blobsOfImages(layout.refs.x!.images));
  }

  it("answers a Basic challenge with the configured user (htpasswd)", async () => {
    await using registry = await startRegistry({ users: { admin: "s3cret" } });
    const size = await pushOne(registry, { username: "admin", password: "s3cret" });
    const good = createRegistryClient({
      url: registry.url,
      username: "admin",
      password: "s3cret",
      concurrency: 2,
      timeoutMs: 10_000,
    });
    const usage = computeUsage(await crawl(good, { pageSize: 100 }));
    expect(usage.byName.get("team/x")?.size).toBe(size);
    const bad = createRegistryClient({
      url: registry.url,
      username: "admin",
      password: "nope",
      concurrency: 2,
      timeoutMs: 10_000,
    });
    const error = await crawl(bad, { pageSize: 100 }).catch((e: unknown) => e);
    expect(isWharfError(error, "UNAUTHENTICATED")).toBe(true);
  });

  it("runs the Bearer token realm flow (GitLab /jwt/auth), one token per scope", async () => {
    await using realm = await startTokenRealm({ root: "tokenpw" });
    await using registry = await startRegistry({
      auth: "token",
      token: { realm: realm.realm, certPath: realm.certPath },
    });
    const size = await pushOne(registry, { username: "root", password: "tokenpw" });
    realm.requests.length = 0;
    const c = createRegistryClient({
      url: registry.url,
      username: "root",
      password: "tokenpw",
      concurrency: 2,
      timeoutMs: 10_000,
    });
    const usage = computeUsage(await crawl(c, { pageSize: 100 }));
    expect(usage.byName.get("team/x")?.size).toBe(size);
    expect(realm.requests.map((r) => [r.scope, r.user])).toEqual([
      ["registry:catalog:*", "root"],
      ["repository:team/x:pull", "root"],
    ]);
    expect(c.counts).toMatchObject({ ...emptyCounts(), auth: 2, catalog: 2, tags: 1, manifestGet: 1 });
    const bad = createRegistryClient({
      url: registry.url,
      username: "root",
      password: "nope",
      concurrency: 2,
      timeoutMs: 10_000,
    });
    const error = await crawl(bad, { pageSize: 100 }).catch((e: unknown) => e);
    expect(isWharfError(error, "UNAUTHENTICATED")).toBe(true);
  });
});
