import { describe, expect, it } from "vitest";
import {
  buildOciLayout,
  ociMediaTypes,
  registryEnv,
  skopeoCopy,
  startRegistry,
  tempDir,
} from "../src/index.ts";

const accept = [
  ociMediaTypes.index,
  ociMediaTypes.manifest,
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

describe("container registry (docker-registry + skopeo)", () => {
  it("answers /v2/ with the distribution API header", async () => {
    const res = await fetch(`${registryEnv().url}/v2/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
  });

  it("lists a skopeo-pushed synthetic image and an index with their built digests", async () => {
    await using dir = await tempDir("test-kit-oci-");
    const base = { seed: "test-kit-base", size: 64 * 1024 };
    const layout = await buildOciLayout(dir.path, [
      { ref: "v1", image: { layers: [base, { seed: "test-kit-app", size: 10_000 }] } },
      {
        ref: "multi",
        index: [
          { layers: [base] },
          { architecture: "arm64", layers: [{ seed: "test-kit-arm", size: 5_000 }] },
        ],
      },
    ]);
    const repo = `test-kit/run-${Date.now().toString(36)}`;
    const { url, host } = registryEnv();
    await skopeoCopy({ layout, ref: "v1", registry: host, repository: repo, tag: "v1" });
    await skopeoCopy({ layout, ref: "multi", registry: host, repository: repo, tag: "multi" });

    const catalog = (await (await fetch(`${url}/v2/_catalog?n=1000`)).json()) as { repositories: string[] };
    expect(catalog.repositories).toContain(repo);
    const tags = (await (await fetch(`${url}/v2/${repo}/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags.sort()).toEqual(["multi", "v1"]);

    for (const tag of ["v1", "multi"]) {
      const res = await fetch(`${url}/v2/${repo}/manifests/${tag}`, { method: "HEAD", headers: { accept } });
      const built = layout.refs[tag]!.descriptor;
      expect(res.headers.get("content-type")).toBe(built.mediaType);
      expect(res.headers.get("docker-content-digest")).toBe(built.digest);
    }
    const blob = await fetch(`${url}/v2/${repo}/blobs/${layout.refs.v1!.images[0]!.layers[0]!.digest}`, {
      method: "HEAD",
    });
    expect(Number(blob.headers.get("content-length"))).toBe(layout.refs.v1!.images[0]!.layers[0]!.size);
  });

  it("starts a private htpasswd registry that turns away anonymous and wrong-password clients", async () => {
    await using registry = await startRegistry({ users: { admin: "s3cret" } });
    expect((await fetch(`${registry.url}/v2/`)).status).toBe(401);
    const basic = (user: string, password: string) => ({
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
    });
    expect((await fetch(`${registry.url}/v2/`, { headers: basic("admin", "nope") })).status).toBe(401);
    expect((await fetch(`${registry.url}/v2/`, { headers: basic("admin", "s3cret") })).status).toBe(200);
  });
});
