import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type BuiltImage, type OciLayout, ociMediaTypes } from "@wharf/test-kit";

/**
 * Adds to `layout` a ref `name` whose image has a config `history` (one entry per layer), which
 * skopeo needs to convert an image to Docker schema 1 (`--format v2s1`). test-kit's layouts have
 * no history. Returns the image with its new config and manifest descriptors.
 */
export async function addRefWithHistory(layout: OciLayout, from: string, name: string): Promise<BuiltImage> {
  const image = layout.refs[from]!.images[0]!;
  const blobs = join(layout.path, "blobs", "sha256");
  const write = async (value: unknown, mediaType: string) => {
    const data = Buffer.from(JSON.stringify(value));
    const hex = createHash("sha256").update(data).digest("hex");
    await writeFile(join(blobs, hex), data);
    return { mediaType, digest: `sha256:${hex}`, size: data.length };
  };
  const config = await write(
    {
      ...image.platform,
      config: {},
      rootfs: { type: "layers", diff_ids: image.diffIds },
      history: image.layers.map((_, i) => ({ created: "2024-01-01T00:00:00Z", created_by: `layer ${i}` })),
    },
    ociMediaTypes.config,
  );
  const manifest = await write(
    { schemaVersion: 2, mediaType: ociMediaTypes.manifest, config, layers: image.layers },
    ociMediaTypes.manifest,
  );
  const indexPath = join(layout.path, "index.json");
  const index = JSON.parse(await readFile(indexPath, "utf8")) as { manifests: unknown[] };
  index.manifests.push({ ...manifest, annotations: { "org.opencontainers.image.ref.name": name } });
  await writeFile(indexPath, JSON.stringify(index));
  const built = { ...image, manifest, config };
  layout.refs[name] = { ref: name, descriptor: manifest, images: [built] };
  return built;
}
