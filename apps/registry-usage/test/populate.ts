import { createHash } from "node:crypto";
import { createLimiter } from "../src/limit.ts";
import { mediaTypes } from "../src/manifest.ts";

const sha256 = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

async function ok(response: Response, what: string): Promise<Response> {
  if (!response.ok) throw new Error(`${what}: ${response.status} ${await response.text()}`);
  return response;
}

async function upload(url: string, repo: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const start = await ok(await fetch(`${url}/v2/${repo}/blobs/uploads/`, { method: "POST" }), "start upload");
  const location = new URL(start.headers.get("location")!, url);
  location.searchParams.set("digest", digest);
  await ok(
    await fetch(location, {
      method: "PUT",
      body: data,
      headers: { "content-type": "application/octet-stream" },
    }),
    "upload",
  );
  return digest;
}

export interface Populated {
  readonly repos: string[];
  readonly tags: number;
  /** Pushes a new manifest (new digest) for `repo:tag`. */
  change(repo: string, tag: string): Promise<void>;
}

/**
 * Fills a registry over the HTTP API (no skopeo: thousands of tags in seconds): `repos`
 * repositories of `tags` tags each, every tag its own manifest (an annotation differs), sharing a
 * base layer registry-wide and one layer per repository (cross-repository blob mounts).
 */
export async function populate(
  url: string,
  options: { repos: number; tags: number; concurrency?: number },
): Promise<Populated> {
  const limit = createLimiter(options.concurrency ?? 16);
  const first = "bench/r000";
  const config = Buffer.from(
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }),
  );
  const base = Buffer.alloc(10_000, 1);
  const configDigest = await upload(url, first, config);
  const baseDigest = await upload(url, first, base);
  const repos = Array.from({ length: options.repos }, (_, i) => `bench/r${String(i).padStart(3, "0")}`);
  const own = new Map<string, { digest: string; size: number }>();

  const manifest = (repo: string, tag: string, generation = 0) =>
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: mediaTypes.ociManifest,
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: configDigest,
          size: config.length,
        },
        layers: [
          { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: baseDigest, size: base.length },
          { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...own.get(repo)! },
        ],
        annotations: { tag, generation: String(generation) },
      }),
    );
  const put = (repo: string, tag: string, generation = 0) =>
    limit(async () => {
      await ok(
        await fetch(`${url}/v2/${repo}/manifests/${tag}`, {
          method: "PUT",
          body: manifest(repo, tag, generation),
          headers: { "content-type": mediaTypes.ociManifest },
        }),
        `put ${repo}:${tag}`,
      );
    });

  await Promise.all(
    repos.map((repo, i) =>
      limit(async () => {
        for (const digest of [configDigest, baseDigest]) {
          if (repo === first) continue;
          await ok(
            await fetch(`${url}/v2/${repo}/blobs/uploads/?mount=${digest}&from=${first}`, { method: "POST" }),
            `mount into ${repo}`,
          );
        }
        const layer = Buffer.alloc(1000 + i, i % 251);
        own.set(repo, { digest: await upload(url, repo, layer), size: layer.length });
      }),
    ),
  );
  await Promise.all(
    repos.flatMap((repo) => Array.from({ length: options.tags }, (_, t) => put(repo, `t${t}`))),
  );
  let generation = 0;
  return {
    repos,
    tags: options.repos * options.tags,
    change: (repo, tag) => put(repo, tag, ++generation),
  };
}
