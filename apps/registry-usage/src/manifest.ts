import { WharfError } from "@wharf/errors";

export const mediaTypes = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerSchema1: "application/vnd.docker.distribution.manifest.v1+json",
  dockerSchema1Signed: "application/vnd.docker.distribution.manifest.v1+prettyjws",
} as const;

/**
 * Sent with every manifest request: all four current kinds, so that the registry neither converts a
 * schema-2 manifest to schema 1 nor answers 404 for OCI content (real-services.md §3).
 */
export const manifestAccept = [
  mediaTypes.ociIndex,
  mediaTypes.ociManifest,
  mediaTypes.dockerList,
  mediaTypes.dockerManifest,
].join(", ");

export interface BlobRef {
  readonly digest: string;
  readonly size: number;
}

export interface ChildRef {
  readonly digest: string;
  readonly mediaType: string;
  /** `os/architecture[/variant]`, when the index says. */
  readonly platform?: string;
}

/** What the collector keeps of a manifest, keyed by its digest. */
export type ManifestRecord =
  | {
      readonly kind: "image";
      readonly mediaType: string;
      readonly config?: BlobRef;
      readonly layers: readonly BlobRef[];
    }
  | { readonly kind: "schema1"; readonly mediaType: string; readonly layers: readonly string[] }
  | { readonly kind: "index"; readonly mediaType: string; readonly children: readonly ChildRef[] };

const digestPattern = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

function bad(message: string): never {
  throw new WharfError("INVALID_ARGUMENT", `unreadable manifest: ${message}`);
}

function blobRef(value: unknown, where: string): BlobRef {
  const v = value as { digest?: unknown; size?: unknown } | null;
  if (typeof v?.digest !== "string" || !digestPattern.test(v.digest)) bad(`${where} has no valid digest`);
  if (typeof v.size !== "number" || !Number.isSafeInteger(v.size) || v.size < 0)
    bad(`${where} has no valid size`);
  return { digest: v.digest, size: v.size };
}

/**
 * Parses a manifest body of any kind: OCI image manifest / Docker schema 2 (config + layers), OCI
 * index / Docker manifest list (children), Docker schema 1 (fsLayers, sizes unknown).
 */
export function parseManifest(body: string, contentType: string | null): ManifestRecord {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(body) as Record<string, unknown>;
  } catch {
    bad("not JSON");
  }
  if (typeof json !== "object" || json === null) bad("not an object");
  const declared = typeof json.mediaType === "string" ? json.mediaType : undefined;
  const type = (contentType?.split(";")[0]?.trim() || declared) ?? "";
  if (json.schemaVersion === 1 || type.startsWith(mediaTypes.dockerSchema1)) {
    const fsLayers = json.fsLayers;
    if (!Array.isArray(fsLayers)) bad("schema 1 without fsLayers");
    const layers = [
      ...new Set(
        fsLayers.map((l: { blobSum?: unknown }, i) => {
          if (typeof l?.blobSum !== "string" || !digestPattern.test(l.blobSum))
            bad(`fsLayers[${i}] has no blobSum`);
          return l.blobSum;
        }),
      ),
    ];
    return { kind: "schema1", mediaType: type || mediaTypes.dockerSchema1, layers };
  }
  if (Array.isArray(json.manifests)) {
    const children = json.manifests.map((m: Record<string, unknown>, i) => {
      const ref = blobRef(m, `manifests[${i}]`);
      const p = m.platform as { os?: unknown; architecture?: unknown; variant?: unknown } | undefined;
      const platform =
        typeof p?.os === "string" && typeof p.architecture === "string"
          ? [p.os, p.architecture, typeof p.variant === "string" ? p.variant : undefined]
              .filter(Boolean)
              .join("/")
          : undefined;
      const mediaType = typeof m.mediaType === "string" ? m.mediaType : mediaTypes.ociManifest;
      return platform ? { digest: ref.digest, mediaType, platform } : { digest: ref.digest, mediaType };
    });
    return { kind: "index", mediaType: type || mediaTypes.ociIndex, children };
  }
  if (!Array.isArray(json.layers) && json.config === undefined) bad("neither layers, manifests nor fsLayers");
  const layers = Array.isArray(json.layers) ? json.layers.map((l, i) => blobRef(l, `layers[${i}]`)) : [];
  const config = json.config === undefined ? undefined : blobRef(json.config, "config");
  return config
    ? { kind: "image", mediaType: type || mediaTypes.ociManifest, config, layers }
    : { kind: "image", mediaType: type || mediaTypes.ociManifest, layers };
}
