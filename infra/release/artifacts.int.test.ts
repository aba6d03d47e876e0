import { type ExecFileException, execFile, spawn } from "node:child_process";
import { cp, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { freePort, tempDir } from "../../packages/test-kit/src/index.ts";
import { repoRoot } from "./global-setup.ts";

const execFileAsync = promisify(execFile);
/** The machine's own Node (Debian's, or whatever ran npm before ./wharf installed Node 24). */
const systemNode = "/usr/bin/node";
const systemMajor = await execFileAsync(systemNode, ["-p", "process.versions.node"]).then(
  ({ stdout }) => Number(stdout.split(".")[0]),
  () => undefined,
);
const dist = (app: string) => join(repoRoot, "apps", app, "dist");

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, { ...options, timeout: 60_000 });
    return { code: 0, stdout, stderr } satisfies Outcome;
  } catch (error) {
    const e = error as ExecFileException & { stdout: string; stderr: string };
    return {
      code: typeof e.code === "number" ? e.code : 1,
      stdout: e.stdout,
      stderr: e.stderr,
    } satisfies Outcome;
  }
}

/** A copy of the app's artifact alone, outside the repository (no node_modules anywhere above it). */
async function copyOf(app: string, dir: string): Promise<string> {
  const target = join(dir, app);
  await cp(dist(app), target, { recursive: true });
  return target;
}

describe("production artifacts (./wharf build)", () => {
  it("starts lfs-router from a copy of its folder, from another directory, and it answers /healthz", async () => {
    await using dir = await tempDir("artifact-lfs-");
    const artifact = await copyOf("lfs-router", dir.path);
    const port = await freePort();
    const child = spawn(process.execPath, [artifact], {
      cwd: dir.path,
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        STORAGE_URL: join(dir.path, "store"),
        JWT_SECRET: "artifact-test-secret-0123456789",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on("line", (line) => {
        if (line.includes('"msg":"listening"')) resolve();
      });
      void exited.then((code) => reject(new Error(`lfs-router exited ${code} before listening`)));
    });
    expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).toEqual({ status: "ok" });
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("states the Node it needs: engines >=24 in every artifact's package.json", async () => {
    for (const app of ["bitstore", "ftps-gateway", "lfs-router", "registry-usage", "tycho"]) {
      const manifest = JSON.parse(await readFile(join(dist(app), "package.json"), "utf8"));
      expect(manifest, app).toMatchObject({
        name: `@wharf/${app}`,
        engines: { node: ">=24" },
        main: "main.mjs",
      });
    }
  });

  it("reads its own version from the artifact (registry-usage --version)", async () => {
    await using dir = await tempDir("artifact-ru-");
    const artifact = await copyOf("registry-usage", dir.path);
    const { version } = JSON.parse(await readFile(join(artifact, "package.json"), "utf8"));
    expect(await run(process.execPath, [artifact, "--version"], { cwd: dir.path })).toMatchObject({
      code: 0,
      stdout: `registry-usage ${version}\n`,
    });
  });

  it("names the .ts line in a stack trace (source maps)", async () => {
    // The servers turn start-up failures into one line; tycho's TYCHO_DEBUG=1 prints every stack.
    await using dir = await tempDir("artifact-maps-");
    const artifact = await copyOf("tycho", dir.path);
    const failed = await run(process.execPath, [artifact, "list", "--config", dir.path], {
      cwd: dir.path,
      env: { TYCHO_DEBUG: "1" },
    });
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain("EISDIR");
    expect(failed.stderr).toMatch(/at readOptional \(wharf:\/\/\/apps\/tycho\/src\/scope\.ts:\d+:\d+\)/);
  });

  it.skipIf(systemMajor === undefined || systemMajor >= 24)(
    `prints one line, not a SyntaxError, on an older Node (${systemNode}, ${systemMajor})`,
    async () => {
      for (const app of ["lfs-router", "tycho"]) {
        const result = await run(systemNode, [dist(app), "--help"], { cwd: repoRoot });
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(
          new RegExp(`^${app} needs Node\\.js 24 or newer; this is Node\\.js 2\\d\\.[^\\n]*\\n$`),
        );
      }
    },
  );

  it.skipIf(systemMajor === undefined || systemMajor >= 24)(
    "the development entries print that line too (regression: Node 20 ended bin/tycho.mjs in a SyntaxError)",
    async () => {
      for (const [app, entry] of [
        ["tycho", "apps/tycho/bin/tycho.mjs"],
        ["ftps-gateway", "apps/ftps-gateway/bin/ftps-gateway.mjs"],
      ] as const) {
        const result = await run(systemNode, [join(repoRoot, entry), "--help"], { cwd: repoRoot });
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(
          new RegExp(`^${app} needs Node\\.js 24 or newer; this is Node\\.js 2\\d\\.[^\\n]*\\n$`),
        );
      }
    },
  );

  it("installs tycho as a CLI from a packed tarball (npm install -g) that runs from any directory", async () => {
    await using dir = await tempDir("artifact-tycho-");
    const packed = await run("npm", ["pack", "--silent", "--pack-destination", dir.path, dist("tycho")], {
      cwd: dir.path,
    });
    expect(packed.code, packed.stderr).toBe(0);
    const tarball = join(dir.path, packed.stdout.trim().split("\n").at(-1)!);
    const prefix = join(dir.path, "global");
    const installed = await run("npm", ["install", "-g", "--offline", "--prefix", prefix, tarball], {
      cwd: dir.path,
    });
    expect(installed.code, installed.stderr).toBe(0);
    const env = {
      PATH: `${join(prefix, "bin")}:${join(process.execPath, "..")}:/usr/bin:/bin`,
      HOME: dir.path,
    };
    const help = await run("tycho", ["--help"], { cwd: dir.path, env });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: tycho /);
    const registry = join(dir.path, "registry");
    const init = await run("tycho", ["init", "narf", "narf.txt"], {
      cwd: dir.path,
      env: { ...env, TYCHO_STORAGE_URL: registry },
    });
    expect(init).toMatchObject({ code: 0, stdout: "Initialized: narf\n" });
  });
});
