import { describe, expect, it } from "vitest";
import { crawl } from "./crawl.ts";
import { mediaTypes } from "./manifest.ts";
import { emptyCounts, type RegistryClient } from "./registry-client.ts";

/** One repository whose tags point at digests the test sets. */
function registry(tags: Map<string, string>) {
  const record = { kind: "image" as const, mediaType: mediaTypes.ociManifest, layers: [] };
  return {
    counts: emptyCounts(),
    catalog: async () => ["app"],
    tags: async () => [...tags.keys()],
    headManifest: async (_repo: string, tag: string) => ({
      digest: tags.get(tag)!,
      mediaType: record.mediaType,
    }),
    getManifest: async (_repo: string, ref: string) => ({
      digest: tags.get(ref) ?? ref,
      mediaType: record.mediaType,
      record,
    }),
    blobSize: async () => 0,
  } as unknown as RegistryClient;
}

describe("crawl: when a tag last changed", () => {
  it("dates a tag by the pass that first saw it on its digest, and keeps that date while it stays", async () => {
    const tags = new Map([
      ["v1", "sha256:1"],
      ["v2", "sha256:2"],
    ]);
    const client = registry(tags);
    const changed = (s: Awaited<ReturnType<typeof crawl>>) =>
      Object.fromEntries(s.repositories[0]!.tags!.map((t) => [t.name, t.changed]));
    const first = await crawl(client, { pageSize: 10, now: () => 1_000_000 });
    expect(changed(first)).toEqual({ v1: 1000, v2: 1000 });
    tags.set("v2", "sha256:3");
    tags.set("v3", "sha256:1");
    const second = await crawl(client, { pageSize: 10, previous: first, now: () => 2_000_000 });
    expect(changed(second)).toEqual({ v1: 1000, v2: 2000, v3: 2000 });
  });
});
