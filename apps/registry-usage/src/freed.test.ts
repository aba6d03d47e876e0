import { describe, expect, it } from "vitest";
import type { Snapshot } from "./crawl.ts";
import { freedBy } from "./freed.ts";
import { mediaTypes } from "./manifest.ts";

const d = (name: string) => `sha256:${name.padEnd(64, "0")}`;
const blob = (name: string, size: number) => ({ digest: d(name), size });
const image = (config: [string, number], ...layers: [string, number][]) => ({
  kind: "image" as const,
  mediaType: mediaTypes.ociManifest,
  config: blob(...config),
  layers: layers.map(([n, s]) => blob(n, s)),
});
const tag = (name: string, manifest: string) => ({
  name,
  digest: d(manifest),
  mediaType: mediaTypes.ociManifest,
});

// Layer sets, by hand:
//   app:v1   = base(1000) + a(200)  + cfg1(10)
//   app:v2   = base(1000) + a(200)  + b(30) + cfg2(10)
//   app:v3   = base(1000) + c(4000) + cfg3(10)
//   app:same = the manifest of v3 (same digest)
//   app:multi = index of [base + m(50) + cfgm(10)] and [n(70) + cfgn(10)]
//   lib:1    = base(1000) + l(5)    + cfg1(10)        (shares cfg1 with app:v1)
const snapshot: Snapshot = {
  version: 1,
  timestamp: 1,
  repositories: [
    {
      name: "app",
      tags: [tag("v1", "m1"), tag("v2", "m2"), tag("v3", "m3"), tag("same", "m3"), tag("multi", "ix")],
    },
    { name: "lib", tags: [tag("1", "m4")] },
  ],
  manifests: {
    [d("m1")]: image(["cfg1", 10], ["base", 1000], ["a", 200]),
    [d("m2")]: image(["cfg2", 10], ["base", 1000], ["a", 200], ["b", 30]),
    [d("m3")]: image(["cfg3", 10], ["base", 1000], ["c", 4000]),
    [d("m4")]: image(["cfg1", 10], ["base", 1000], ["l", 5]),
    [d("mx")]: image(["cfgm", 10], ["base", 1000], ["m", 50]),
    [d("my")]: image(["cfgn", 10], ["n", 70]),
    [d("ix")]: {
      kind: "index",
      mediaType: mediaTypes.ociIndex,
      children: [
        { digest: d("mx"), mediaType: mediaTypes.ociManifest, platform: "linux/amd64" },
        { digest: d("my"), mediaType: mediaTypes.ociManifest, platform: "linux/arm64" },
      ],
    },
  },
  blobSizes: {},
};

const freed = (tags: string[], repo = "app") => freedBy(snapshot, repo, new Set(tags));

describe("freedBy: what deleting a selection of tags frees", () => {
  it("a single tag frees only the blobs no other tag references", () => {
    // v2: b + cfg2 are its own; base and a are shared with v1.
    expect(freed(["v2"])).toEqual({ freed_size: 40, freed_blob_count: 2, size: 1240, blob_count: 4 });
  });

  it("a layer shared only among the selection counts as freed, once", () => {
    // v1 + v2: a (200) is shared only between them; cfg1 is also in lib:1, base everywhere.
    expect(freed(["v1", "v2"])).toEqual({ freed_size: 240, freed_blob_count: 3, size: 1250, blob_count: 5 });
  });

  it("a tag whose manifest another tag also names frees nothing until both go", () => {
    expect(freed(["v3"]).freed_size).toBe(0);
    expect(freed(["v3", "same"])).toEqual({
      freed_size: 4010,
      freed_blob_count: 2,
      size: 5010,
      blob_count: 3,
    });
  });

  it("an index frees its platforms' own blobs", () => {
    expect(freed(["multi"])).toEqual({ freed_size: 140, freed_blob_count: 4, size: 1140, blob_count: 5 });
  });

  it("a blob shared with another repository is never freed", () => {
    expect(freed(["1"], "lib")).toEqual({ freed_size: 5, freed_blob_count: 1, size: 1015, blob_count: 3 });
    // Every tag of app: base and cfg1 stay for lib:1.
    expect(freed(["v1", "v2", "v3", "same", "multi"]).freed_size).toBe(
      200 + 30 + 10 + 4000 + 10 + 50 + 10 + 70 + 10,
    );
  });
});
