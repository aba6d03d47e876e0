import { createCipheriv, createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { WharfError } from "@wharf/errors";

export const ociMediaTypes = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
} as const;

/** One layer: a gzip'd tar holding one file of `size` seeded random (incompressible) bytes. */
export interface LayerSpec {
  seed: string;
  size: number;
}

export interface ImageSpec {
  layers: LayerSpec[];
  /** Default "amd64". */
  architecture?: string;
  /** Default "linux". */
  os?: string;
}

/** A ref in the layout: one image manifest, or a multi-platform index of several. */
export type RefSpec = { ref: string; image: ImageSpec } | { ref: string; index: ImageSpec[] };

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface BuiltImage {
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  /** sha256 of each uncompressed layer tar, as in the config's `rootfs.diff_ids`. */
  diffIds: string[];
  platform: { architecture: string; os: string };
}

export interface BuiltRef {
  ref: string;
  /** The top descriptor: the image manifest, or the index. */
  descriptor: Descriptor;
  /** One image for a manifest; one per platform for an index. */
  images: BuiltImage[];
}

export interface OciLayout {
  path: string;
  refs: Record<string, BuiltRef>;
}

const refPattern = /^[A-Za-z0-9]+(([-._:@+]|--)[A-Za-z0-9]+)*$/;

/**
 * Writes an OCI image layout at `path` (created if missing) holding `specs`, entirely offline
 * (real-services.md §3 "Synthetic OCI images"). Identical layer specs give identical blobs, so
 * images that share a base layer share its digest. Returns every descriptor, for size assertions.
 *
 * @example
 * const base = { seed: "base", size: 4 << 20 };
 * const layout = await buildOciLayout(dir.path, [
 *   { ref: "v1", image: { layers: [base, { seed: "a1", size: 1 << 20 }] } },
 *   { ref: "multi", index: [{ layers: [base] }, { architecture: "arm64", layers: [{ seed: "arm", size: 1000 }] }] },
 * ]);
 */
export async function buildOciLayout(path: string, specs: RefSpec[]): Promise<OciLayout> {
  const blobs = join(path, "blobs", "sha256");
  await mkdir(blobs, { recursive: true });
  const written = new Set<string>();
  const layerCache = new Map<string, { descriptor: Descriptor; diffId: string }>();

  const writeBlob = async (mediaType: string, data: Buffer): Promise<Descriptor> => {
    const hex = createHash("sha256").update(data).digest("hex");
    if (!written.has(hex)) {
      written.add(hex);
      await writeFile(join(blobs, hex), data);
    }
    return { mediaType, digest: `sha256:${hex}`, size: data.length };
  };
  const writeJson = (mediaType: string, value: unknown) =>
    writeBlob(mediaType, Buffer.from(JSON.stringify(value)));

  const buildLayer = async (spec: LayerSpec) => {
    const key = `${spec.seed}\0${spec.size}`;
    let layer = layerCache.get(key);
    if (!layer) {
      const tar = singleFileTar(
        `${spec.seed.replace(/[^A-Za-z0-9._-]/g, "_")}.bin`,
        seededBytes(spec.seed, spec.size),
      );
      const diffId = `sha256:${createHash("sha256").update(tar).digest("hex")}`;
      layer = { descriptor: await writeBlob(ociMediaTypes.layer, gzipSync(tar, { level: 1 })), diffId };
      layerCache.set(key, layer);
    }
    return layer;
  };

  const buildImage = async (spec: ImageSpec): Promise<BuiltImage> => {
    const platform = { architecture: spec.architecture ?? "amd64", os: spec.os ?? "linux" };
    const layers = [];
    for (const layer of spec.layers) layers.push(await buildLayer(layer));
    const diffIds = layers.map((l) => l.diffId);
    const config = await writeJson(ociMediaTypes.config, {
      ...platform,
      config: {},
      rootfs: { type: "layers", diff_ids: diffIds },
    });
    const manifest = await writeJson(ociMediaTypes.manifest, {
      schemaVersion: 2,
      mediaType: ociMediaTypes.manifest,
      config,
      layers: layers.map((l) => l.descriptor),
    });
    return { manifest, config, layers: layers.map((l) => l.descriptor), diffIds, platform };
  };

  const refs: Record<string, BuiltRef> = {};
  const entries = [];
  for (const spec of specs) {
    if (!refPattern.test(spec.ref))
      throw new WharfError("INVALID_ARGUMENT", `OCI ref name "${spec.ref}" does not match ${refPattern}`);
    if (refs[spec.ref]) throw new WharfError("ALREADY_EXISTS", `OCI ref "${spec.ref}" given twice`);
    let built: BuiltRef;
    if ("image" in spec) {
      const image = await buildImage(spec.image);
      built = { ref: spec.ref, descriptor: image.manifest, images: [image] };
    } else {
      const images = [];
      for (const child of spec.index) images.push(await buildImage(child));
      const descriptor = await writeJson(ociMediaTypes.index, {
        schemaVersion: 2,
        mediaType: ociMediaTypes.index,
        manifests: images.map((i) => ({ ...i.manifest, platform: i.platform })),
      });
      built = { ref: spec.ref, descriptor, images };
    }
    refs[spec.ref] = built;
    entries.push({ ...built.descriptor, annotations: { "org.opencontainers.image.ref.name": spec.ref } });
  }
  await writeFile(join(path, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await writeFile(join(path, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: entries }));
  return { path, refs };
}

/** `size` pseudo-random bytes determined by `seed` (AES-128-CTR keystream). */
export function seededBytes(seed: string, size: number): Buffer {
  const key = createHash("sha256").update(seed).digest().subarray(0, 16);
  return createCipheriv("aes-128-ctr", key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

/** A ustar archive with one regular file (mode 0644, mtime 0, root-owned). */
function singleFileTar(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const put = (offset: number, length: number, value: string) => header.write(value, offset, length, "ascii");
  const octal = (value: number, length: number) => `${value.toString(8).padStart(length - 1, "0")}\0`;
  put(0, 100, name.slice(0, 100));
  put(100, 8, octal(0o644, 8));
  put(108, 8, octal(0, 8));
  put(116, 8, octal(0, 8));
  put(124, 12, octal(content.length, 12));
  put(136, 12, octal(0, 12));
  put(148, 8, "        ");
  put(156, 1, "0");
  put(257, 8, "ustar\u000000");
  let sum = 0;
  for (const byte of header) sum += byte;
  put(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  const padding = (512 - (content.length % 512)) % 512;
  return Buffer.concat([header, content, Buffer.alloc(padding + 1024)]);
}
