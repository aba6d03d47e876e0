/**
 * The Kustomize base of lfs-router started for real: rootless `podman kube play` (no cluster runs
 * here) of the rendered Deployment, with the image the release project built. Both replicas come up
 * as the non-root user of the securityContext on a read-only root, answer readiness and liveness,
 * and go away with `kube play --down`. (infra/deploy/kube-play.ts lists what podman 4.3 needs
 * changed in the render, and why.)
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadAll } from "js-yaml";
import { afterAll, describe, expect, it } from "vitest";
import { type K8sObject, writePodmanManifest } from "../deploy/kube-play.ts";
import { imageOf } from "./container.ts";
import { repoRoot } from "./global-setup.ts";

const script = join(repoRoot, "infra/deploy/kube-play.sh");
const dir = mkdtempSync(join(tmpdir(), "wharf-kube-play-"));
const manifest = join(dir, "lfs-router.json");

function kubePlay(...args: string[]): string {
  return execFileSync("bash", [script, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

describe("deploy/k8s/lfs-router under podman kube play (rootless)", () => {
  afterAll(() => {
    kubePlay("down", manifest);
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs two replicas as uid 10001 on a read-only root, ready and live", () => {
    const render = execFileSync("kubectl", ["kustomize", join(repoRoot, "deploy/k8s/lfs-router")], {
      encoding: "utf8",
    });
    const objects = loadAll(render) as K8sObject[];
    const image = imageOf("lfs-router");
    const deployment = objects.find((o) => o.kind === "Deployment")!;
    const template = deployment.spec?.template as
      | { spec: { containers: Array<{ image: string }> } }
      | undefined;
    const containers = template?.spec.containers ?? [];
    // The base pins wharf/lfs-router:<version> (infra/deploy checks it); run this run's build of it.
    expect(containers[0]!.image).toMatch(/^wharf\/lfs-router:/);
    containers[0]!.image = image;
    writePodmanManifest(objects, manifest, { STORAGE_URL: "file:///tmp/lfs", LOG_LEVEL: "warn" });
    kubePlay("up", manifest, image);

    for (const pod of ["lfs-router-pod-0", "lfs-router-pod-1"]) {
      const container = `${pod}-lfs-router`;
      const probe = (path: string) =>
        kubePlay(
          "exec",
          container,
          "node",
          "-e",
          `fetch("http://127.0.0.1:8080${path}").then(async (r) => console.log(r.status, await r.text()))`,
        ).trim();
      let ready = "";
      for (let attempt = 0; attempt < 50 && !ready.startsWith("200"); attempt++) {
        try {
          ready = probe("/healthz");
        } catch {
          execFileSync("sleep", ["0.2"]);
        }
      }
      expect(ready).toBe('200 {"status":"ok"}');
      expect(probe("/livez")).toBe('200 {"status":"ok"}');
      expect(kubePlay("exec", container, "id", "-u").trim()).toBe("10001");
      expect(() => kubePlay("exec", container, "touch", "/written")).toThrow(/Read-only file system/);
    }
  });
});
