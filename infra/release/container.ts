import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { inject } from "vitest";

const execFileAsync = promisify(execFile);
const containersConf = new URL("../podman/containers.conf", import.meta.url).pathname;
/** podman with the repository's settings (runc, rlimits the VM allows). */
export const podmanEnv = { ...process.env, CONTAINERS_CONF: process.env.CONTAINERS_CONF ?? containersConf };

/** The image the release project's global setup built for `app`. */
export function imageOf(app: string): string {
  const image = inject("releaseImages")[app];
  if (!image) throw new Error(`no image was built for ${app}`);
  return image;
}

export async function podman(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync("podman", args, { env: podmanEnv, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

export interface ContainerOptions {
  image: string;
  env?: Record<string, string>;
  /** `host:container[:ro]` bind mounts. */
  volumes?: string[];
  args?: string[];
  /** Resolves the start once a line of the container's output matches. */
  ready: RegExp;
}

export interface RunningContainer extends AsyncDisposable {
  readonly name: string;
  /** Every line the container printed so far. */
  readonly lines: string[];
  /** `podman stop` (SIGTERM, then SIGKILL after `graceSeconds`): the exit status and output. */
  stop(graceSeconds?: number): Promise<{ code: number | null; lines: string[] }>;
}

/**
 * `podman run` as deployed: the image's own user (non-root), a read-only root filesystem and the
 * host's network (the services under test listen on loopback). Stopped and removed on dispose.
 */
export async function startContainer(options: ContainerOptions): Promise<RunningContainer> {
  const name = `wharf-test-${randomBytes(4).toString("hex")}`;
  const child = spawn("podman", runArgs(name, options), {
    env: podmanEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  // A container that never gets ready is removed, not left running past the test.
  const deadline = setTimeout(() => void podman("rm", "--force", name).catch(() => ""), 60_000);
  await new Promise<void>((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr])
      createInterface({ input: stream }).on("line", (line) => {
        lines.push(line);
        if (options.ready.test(line)) resolve();
      });
    child.once("error", reject);
    void exited.then((code) =>
      reject(new Error(`${options.image} exited ${code} before it was ready:\n${lines.join("\n")}`)),
    );
  }).finally(() => clearTimeout(deadline));
  let stopped: Promise<{ code: number | null; lines: string[] }> | undefined;
  const stop = (graceSeconds = 10) => {
    stopped ??= podman("stop", "--time", String(graceSeconds), name)
      .catch(() => "")
      .then(() => exited)
      .then((code) => ({ code, lines }));
    return stopped;
  };
  return { name, lines, stop, [Symbol.asyncDispose]: async () => void (await stop()) };
}

/** Runs a container to completion (a CLI): its exit status and output. */
export async function runContainer(
  options: Omit<ContainerOptions, "ready">,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = runArgs(`wharf-test-${randomBytes(4).toString("hex")}`, options);
  try {
    const { stdout, stderr } = await execFileAsync("podman", args, { env: podmanEnv });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** `podman run` as deployed: removed on exit, read-only root, the host's network, the image's own user. */
function runArgs(name: string, options: Omit<ContainerOptions, "ready">): string[] {
  return [
    "run",
    "--rm",
    "--name",
    name,
    "--read-only",
    "--network",
    "host",
    ...Object.entries(options.env ?? {}).flatMap(([key, value]) => ["--env", `${key}=${value}`]),
    ...(options.volumes ?? []).flatMap((volume) => ["--volume", volume]),
    options.image,
    ...(options.args ?? []),
  ];
}
