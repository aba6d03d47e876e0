import { describe, expect, it } from "vitest";
import type { Snapshot } from "./crawl.ts";
import { mediaTypes } from "./manifest.ts";
import { attributePrimary, computeUsage } from "./usage.ts";

const d = (name: string) => `sha256:${name.padEnd(64, "0")}`;
const [aaa, bbb, ccc, ddd, eee] = ["aaa", "bbb", "ccc", "ddd", "eee"].map(d) as [
  string,
  string,
  string,
  string,
  string,
];
const sizes = { [aaa]: 1000, [bbb]: 200, [ccc]: 30, [ddd]: 4, [eee]: 5000 };

/** originals.md §5.2, the worked example run against the original. */
function workedExample(): Snapshot {
  const schema1 = (layers: string[]) => ({
    kind: "schema1" as const,
    mediaType: mediaTypes.dockerSchema1Signed,
    layers,
  });
  const tag = (name: string, digest: string) => ({ name, digest, mediaType: mediaTypes.dockerSchema1Signed });
  return {
    version: 1,
    timestamp: 1795317000.0651085,
    repositories: [
      { name: "group/app", tags: [tag("latest", d("m1")), tag("v1", d("m2"))] },
      { name: "group/sub/lib", tags: [tag("1.0", d("m3"))] },
      { name: "legacy/schema1", tags: [tag("old", d("m4"))] },
      { name: "empty/repo", tags: [] },
      { name: "broken/repo", tags: null, error: "tags of broken/repo: not found" },
    ],
    manifests: {
      [d("m1")]: schema1([aaa, bbb, ccc]),
      [d("m2")]: schema1([aaa, bbb]),
      [d("m3")]: schema1([aaa, ddd]),
      [d("m4")]: schema1([eee, ccc]),
    },
    blobSizes: sizes,
  };
}

describe("disk_size (the original's primary-tag attribution)", () => {
  it("reproduces the worked example of originals.md §5.2 tag by tag", () => {
    const usage = computeUsage(workedExample());
    const tag = (repo: string, name: string) => usage.byName.get(repo)?.tags?.find((t) => t.name === name);
    expect([tag("group/app", "latest")?.size, tag("group/app", "latest")?.disk_size]).toEqual([1230, 0]);
    expect([tag("group/app", "v1")?.size, tag("group/app", "v1")?.disk_size]).toEqual([1200, 1200]);
    expect([tag("group/sub/lib", "1.0")?.size, tag("group/sub/lib", "1.0")?.disk_size]).toEqual([1004, 4]);
    expect([tag("legacy/schema1", "old")?.size, tag("legacy/schema1", "old")?.disk_size]).toEqual([
      5030, 5030,
    ]);
  });

  it("reproduces the example's repository values and totals, null for an unreadable repository", () => {
    const usage = computeUsage(workedExample());
    const repo = (name: string) => usage.byName.get(name);
    expect([repo("group/app")?.size, repo("group/app")?.disk_size]).toEqual([2430, 1200]);
    expect([repo("group/sub/lib")?.size, repo("group/sub/lib")?.disk_size]).toEqual([1004, 4]);
    expect([repo("empty/repo")?.size, repo("empty/repo")?.disk_size]).toEqual([0, 0]);
    expect([repo("broken/repo")?.size, repo("broken/repo")?.disk_size]).toEqual([null, null]);
    expect(usage.totals.size).toBe(8464);
    expect(usage.totals.disk_size).toBe(6234);
  });

  it("moves a blob only to a later tag with strictly fewer blobs", () => {
    const blobs = (...names: string[]) => new Map(names.map((n) => [n, 10]));
    const result = attributePrimary([
      { key: "first", blobs: blobs("x", "y") },
      { key: "same-count", blobs: blobs("x", "z") },
      { key: "fewer", blobs: blobs("y") },
    ]);
    expect(Object.fromEntries(result)).toEqual({ first: 10, "same-count": 10, fewer: 10 });
  });
});

describe("exclusive and shared bytes", () => {
  it("splits each tag and repository into bytes only it references and bytes shared", () => {
    const usage = computeUsage(workedExample());
    const app = usage.byName.get("group/app")!;
    // aaa is in three tags of two repos, bbb in two tags of group/app, ccc in group/app and legacy.
    expect(app.tags?.map((t) => [t.name, t.exclusive_size, t.shared_size])).toEqual([
      ["latest", 0, 1230],
      ["v1", 0, 1200],
    ]);
    expect([app.unique_size, app.exclusive_size, app.shared_size]).toEqual([1230, 200, 1030]);
    const lib = usage.byName.get("group/sub/lib")!;
    expect([lib.exclusive_size, lib.shared_size]).toEqual([4, 1000]);
    const legacy = usage.byName.get("legacy/schema1")!;
    expect([legacy.tags?.[0]?.exclusive_size, legacy.exclusive_size]).toEqual([5000, 5000]);
  });

  it("adds up: registry unique bytes = Σ repository-exclusive bytes + bytes shared between repositories = Σ disk_size", () => {
    const { totals } = computeUsage(workedExample());
    expect(totals.unique_size).toBe(1000 + 200 + 30 + 4 + 5000);
    expect(totals.exclusive_size).toBe(200 + 4 + 5000);
    expect(totals.shared_size).toBe(1000 + 30);
    expect(totals.exclusive_size + totals.shared_size).toBe(totals.unique_size);
    expect(totals.disk_size).toBe(totals.unique_size);
  });

  it("gives two tags of one digest no exclusive bytes: deleting either frees nothing", () => {
    const snapshot = workedExample();
    const twin = {
      ...snapshot,
      repositories: [
        {
          name: "r",
          tags: [
            { name: "a", digest: d("m4"), mediaType: mediaTypes.dockerSchema1Signed },
            { name: "b", digest: d("m4"), mediaType: mediaTypes.dockerSchema1Signed },
          ],
        },
      ],
    };
    const repo = computeUsage(twin).byName.get("r")!;
    expect(repo.tags?.map((t) => t.exclusive_size)).toEqual([0, 0]);
    expect([repo.size, repo.unique_size, repo.exclusive_size]).toEqual([10060, 5030, 5030]);
  });

  it("sizes an index as the union of its platforms, each platform separately too", () => {
    const blob = (name: string, size: number) => ({ digest: d(name), size });
    const snapshot: Snapshot = {
      version: 1,
      timestamp: 1,
      repositories: [
        { name: "multi", tags: [{ name: "latest", digest: d("idx"), mediaType: mediaTypes.ociIndex }] },
      ],
      manifests: {
        [d("idx")]: {
          kind: "index",
          mediaType: mediaTypes.ociIndex,
          children: [
            { digest: d("amd"), mediaType: mediaTypes.ociManifest, platform: "linux/amd64" },
            { digest: d("arm"), mediaType: mediaTypes.ociManifest, platform: "linux/arm64" },
          ],
        },
        [d("amd")]: {
          kind: "image",
          mediaType: mediaTypes.ociManifest,
          config: blob("c1", 5),
          layers: [blob("base", 100), blob("x", 7)],
        },
        [d("arm")]: {
          kind: "image",
          mediaType: mediaTypes.ociManifest,
          config: blob("c2", 6),
          layers: [blob("base", 100)],
        },
      },
      blobSizes: {},
    };
    const tag = computeUsage(snapshot).byName.get("multi")?.tags?.[0];
    expect(tag?.kind).toBe("index");
    expect(tag?.size).toBe(5 + 100 + 7 + 6);
    expect(tag?.platforms?.map((p) => [p.platform, p.size])).toEqual([
      ["linux/amd64", 112],
      ["linux/arm64", 106],
    ]);
  });
});
