import { randomUUID } from "node:crypto";
import {
  type BuiltImage,
  buildOciLayout,
  type OciLayout,
  type StartedRegistry,
  skopeoCopy,
  startRegistry,
  type TempDir,
  tempDir,
} from "@wharf/test-kit";
import { addRefWithHistory } from "./history-layout.ts";

/** Blob digest → size of everything an image (or every platform of an index) references. */
export function blobsOfImages(images: readonly BuiltImage[]): Map<string, number> {
  const blobs = new Map<string, number>();
  for (const image of images) {
    blobs.set(image.config.digest, image.config.size);
    for (const layer of image.layers) blobs.set(layer.digest, layer.size);
  }
  return blobs;
}

export const total = (blobs: ReadonlyMap<string, number>) => [...blobs.values()].reduce((a, b) => a + b, 0);

/** What the fixture pushed: repository → tag → the layout ref it came from. */
export type Pushed = Map<string, Map<string, string>>;

export interface RegistryFixture extends AsyncDisposable {
  readonly registry: StartedRegistry;
  readonly layout: OciLayout;
  readonly pushed: Pushed;
  /** Independently computed blobs of `repo:tag`, from the layout's descriptors. */
  blobs(repo: string, tag: string): Map<string, number>;
  push(ref: string, repo: string, tag: string, format?: "v2s2" | "v2s1"): Promise<void>;
  deleteTag(repo: string, tag: string): Promise<void>;
}

/**
 * A private docker-registry (schema 1 pushes enabled) with synthetic images of seeded random
 * layers, unique per run: a shared base layer, a multi-arch index, Docker schema 2 and list
 * conversions, and a schema-1 image.
 */
export async function startRegistryFixture(
  options: { notifications?: { url: string; secret: string } } = {},
): Promise<RegistryFixture> {
  const run = randomUUID().slice(0, 8);
  // test-kit's startRegistry has no option for these: distribution reads any config key from
  // REGISTRY_<SECTION>_<KEY> (YAML values), and infra/registry/start.sh passes the environment on.
  const extra: Record<string, string> = { REGISTRY_COMPATIBILITY_SCHEMA1_ENABLED: "true" };
  if (options.notifications) {
    extra.REGISTRY_NOTIFICATIONS_ENDPOINTS = JSON.stringify([
      {
        name: "registry-usage",
        url: options.notifications.url,
        headers: { Authorization: [`Bearer ${options.notifications.secret}`] },
        timeout: "5s",
        threshold: 3,
        backoff: "200ms",
        ignoredmediatypes: ["application/octet-stream"],
      },
    ]);
  }
  const saved = Object.fromEntries(Object.keys(extra).map((k) => [k, process.env[k]]));
  Object.assign(process.env, extra);
  let registry: StartedRegistry;
  try {
    registry = await startRegistry({ auth: "none" });
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
  const dir: TempDir = await tempDir("ru-oci-");
  const layer = (name: string, size: number) => ({ seed: `${run}-${name}`, size });
  const base = layer("base", 64 * 1024);
  const layout = await buildOciLayout(dir.path, [
    { ref: "a1", image: { layers: [base, layer("a1", 20_000)] } },
    { ref: "a2", image: { layers: [base, layer("a2", 30_000)] } },
    { ref: "a3", image: { layers: [base, layer("a3", 5_000)] } },
    { ref: "c1", image: { layers: [base, layer("c1", 7_000)] } },
    { ref: "tiny", image: { layers: [layer("tiny", 900)] } },
    {
      ref: "multi",
      index: [
        { layers: [base, layer("m-amd", 11_000)] },
        { architecture: "arm64", layers: [layer("m-arm", 13_000)] },
      ],
    },
  ]);
  await addRefWithHistory(layout, "tiny", "legacy");
  const pushed: Pushed = new Map();
  const converted = new Map<string, Map<string, number>>();

  const fixture: RegistryFixture = {
    registry,
    layout,
    pushed,
    blobs(repo, tag) {
      const ref = pushed.get(repo)?.get(tag);
      if (!ref) throw new Error(`${repo}:${tag} was not pushed`);
      return converted.get(`${repo}:${tag}`) ?? blobsOfImages(layout.refs[ref]!.images);
    },
    async push(ref, repo, tag, format) {
      if (format === "v2s1") {
        const { execFile } = await import("node:child_process");
        await new Promise<void>((resolve, reject) =>
          execFile(
            "skopeo",
            [
              "copy",
              "--dest-tls-verify=false",
              "--format",
              "v2s1",
              `oci:${layout.path}:${ref}`,
              `docker://${registry.host}/${repo}:${tag}`,
            ],
            { env: { ...process.env, REGISTRY_AUTH_FILE: `${dir.path}/no-auth.json` } },
            (error, _out, stderr) => (error ? reject(new Error(String(stderr))) : resolve()),
          ),
        );
        // Schema 1 has no config blob: only the layers count.
        const image = layout.refs[ref]!.images[0]!;
        converted.set(`${repo}:${tag}`, new Map(image.layers.map((l) => [l.digest, l.size])));
      } else {
        await skopeoCopy({
          layout,
          ref,
          registry: registry.host,
          repository: repo,
          tag,
          ...(format ? { format } : {}),
        });
      }
      if (!pushed.has(repo)) pushed.set(repo, new Map());
      pushed.get(repo)!.set(tag, ref);
    },
    async deleteTag(repo, tag) {
      const head = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, {
        method: "HEAD",
        headers: {
          accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json",
        },
      });
      const digest = head.headers.get("docker-content-digest");
      const res = await fetch(`${registry.url}/v2/${repo}/manifests/${digest}`, { method: "DELETE" });
      if (res.status !== 202) throw new Error(`delete ${repo}:${tag} answered ${res.status}`);
      pushed.get(repo)?.delete(tag);
    },
    async [Symbol.asyncDispose]() {
      await registry[Symbol.asyncDispose]();
      await dir[Symbol.asyncDispose]();
    },
  };
  return fixture;
}

/** Every size the fixture implies, computed from the pushed blobs without the collector. */
export function expectedUsage(fx: RegistryFixture) {
  const tags = new Map<string, Map<string, number>>();
  const repoOf = new Map<string, Set<string>>();
  for (const [repo, refs] of fx.pushed)
    for (const tag of refs.keys()) {
      const blobs = fx.blobs(repo, tag);
      tags.set(`${repo}:${tag}`, blobs);
      for (const digest of blobs.keys()) repoOf.set(digest, (repoOf.get(digest) ?? new Set()).add(repo));
    }
  const repos = new Map<string, { size: number; unique: number; exclusive: number }>();
  for (const [repo, refs] of fx.pushed) {
    const unique = new Map<string, number>();
    let size = 0;
    for (const tag of refs.keys()) {
      const blobs = tags.get(`${repo}:${tag}`)!;
      size += total(blobs);
      for (const [d, s] of blobs) unique.set(d, s);
    }
    const exclusive = [...unique].filter(([d]) => repoOf.get(d)!.size === 1).reduce((a, [, s]) => a + s, 0);
    repos.set(repo, { size, unique: total(unique), exclusive });
  }
  const all = new Map<string, number>();
  for (const blobs of tags.values()) for (const [d, s] of blobs) all.set(d, s);
  return { tags, repos, unique: total(all) };
}
