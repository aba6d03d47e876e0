import type { Snapshot } from "../src/crawl.ts";
import { mediaTypes } from "../src/manifest.ts";

const digest = (kind: string, n: number) => `sha256:${kind}${n.toString(16).padStart(64 - kind.length, "0")}`;

/**
 * A registry of `repos` repositories of `tags` tags each, without a registry: every tag its own
 * manifest over a shared base layer, its repository's layer and a layer of its own (benchmarks).
 */
export function generateSnapshot(repos: number, tags: number, timestamp = Date.now() / 1000): Snapshot {
  const manifests: Record<string, Snapshot["manifests"][string]> = {};
  const repositories = Array.from({ length: repos }, (_, r) => ({
    name: `team${r % 50}/app-${r}`,
    tags: Array.from({ length: tags }, (_, t) => {
      const id = r * tags + t;
      manifests[digest("m", id)] = {
        kind: "image",
        mediaType: mediaTypes.ociManifest,
        config: { digest: digest("c", id), size: 1500 },
        layers: [
          { digest: digest("base", 0), size: 30_000_000 },
          { digest: digest("r", r), size: 1_000_000 + r * 997 },
          { digest: digest("t", id), size: 10_000 + ((id * 7919) % 5_000_000) },
        ],
      };
      return { name: `v${t}`, digest: digest("m", id), mediaType: mediaTypes.ociManifest };
    }),
  }));
  return { version: 1, timestamp, repositories, manifests, blobSizes: {}, reconciledAt: timestamp };
}
