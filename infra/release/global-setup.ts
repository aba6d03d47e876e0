/**
 * Once per run, for the release project: builds every app's production artifact (`./wharf build`)
 * and its image from the repository's Containerfile with podman on the stand-in Node 24 base
 * (infra/podman/build.sh --stand-in; the base is made once and kept in podman's storage). Tests
 * read the results with `inject("releaseImages")`.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import type { TestProject } from "vitest/node";

export const repoRoot = resolve(import.meta.dirname, "../..");

declare module "vitest" {
  export interface ProvidedContext {
    /** App name → image reference (`localhost/wharf-test-<run>/<app>:<version>`, removed after the run). */
    releaseImages: Record<string, string>;
  }
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", fail);
    child.on("close", (code) =>
      code === 0 ? done(stdout) : fail(new Error(`${command} ${args.join(" ")} exited ${code}:\n${stderr}`)),
    );
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const t0 = performance.now();
  // Tags of this run's own, so that another checkout building at the same time cannot swap them.
  const repo = `localhost/wharf-test-${process.pid}-${randomBytes(3).toString("hex")}`;
  const env = { ...process.env, WHARF_IMAGE_REPO: repo };
  const images = (await run("bash", ["infra/podman/build.sh", "--stand-in"], env)).trim().split("\n");
  const byApp = Object.fromEntries(
    images.map((image) => [image.slice(repo.length + 1).split(":")[0]!, image]),
  );
  project.provide("releaseImages", byApp);
  process.stderr.write(
    `[release] built ${images.length} artifacts and images in ${((performance.now() - t0) / 1000).toFixed(1)}s\n`,
  );
  return async () => {
    const tags = images.flatMap((image) => [image, image.replace(/:[^:]+$/, ":latest")]);
    await run("podman", ["rmi", "--force", ...tags], {
      ...process.env,
      CONTAINERS_CONF: process.env.CONTAINERS_CONF ?? resolve(repoRoot, "infra/podman/containers.conf"),
    }).catch(() => undefined);
  };
}
