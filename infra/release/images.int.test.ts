import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { freePort, tempDir } from "../../packages/test-kit/src/index.ts";
import { imageOf, podman, startContainer } from "./container.ts";
import { repoRoot } from "./global-setup.ts";

const git = async (...args: string[]) =>
  (await promisify(execFile)("git", ["-C", repoRoot, ...args])).stdout.trim();

interface ImageInspect {
  Config: { User: string; Labels: Record<string, string>; ExposedPorts?: Record<string, unknown> };
  Healthcheck?: { Test: string[] };
}

const expected: Record<string, { ports: string[]; healthcheck: boolean }> = {
  "lfs-router": { ports: ["8080/tcp"], healthcheck: true },
  bitstore: { ports: ["8000/tcp"], healthcheck: true },
  "registry-usage": { ports: ["5000/tcp"], healthcheck: true },
  "ftps-gateway": { ports: ["2121/tcp", "30000-30049/tcp", "8080/tcp"], healthcheck: true },
  tycho: { ports: [], healthcheck: false },
};

describe("the images' configuration", () => {
  it.each(Object.entries(expected))(
    "%s: non-root user, OCI labels, declared ports, health check",
    async (app, want) => {
      const [image] = JSON.parse(await podman("image", "inspect", imageOf(app))) as ImageInspect[];
      const config = image!.Config;
      const { version } = JSON.parse(await readFile(join(repoRoot, "apps", app, "package.json"), "utf8"));
      expect(config.User).toBe("1000:1000");
      expect(config.Labels).toMatchObject({
        "org.opencontainers.image.version": version,
        "org.opencontainers.image.revision": expect.stringMatching(
          new RegExp(`^${await git("rev-parse", "HEAD")}(-dirty)?$`),
        ),
        "org.opencontainers.image.source": await git("remote", "get-url", "origin").catch(() => ""),
      });
      expect(Object.keys(config.ExposedPorts ?? {}).sort()).toEqual([...want.ports].sort());
      expect(image!.Healthcheck?.Test?.[0] === "CMD").toBe(want.healthcheck);
    },
  );

  it("lfs-router's health check passes while it serves, from inside the read-only container", async () => {
    await using dir = await tempDir("image-health-");
    await promisify(execFile)("chmod", ["0777", dir.path]);
    const port = await freePort();
    await using router = await startContainer({
      image: imageOf("lfs-router"),
      env: { PORT: String(port), STORAGE_URL: "/data", JWT_SECRET: "image-health-secret-0123456789" },
      volumes: [`${dir.path}:/data`],
      ready: /"msg":"listening"/,
    });
    await podman("healthcheck", "run", router.name);
    expect(await podman("inspect", "--format", "{{.State.Health.Status}}", router.name)).toBe("healthy\n");
  });
});
