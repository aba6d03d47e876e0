import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { occupiedPort, spawnServer } from "../../packages/test-kit/src/process.ts";
import { portIsFree } from "../../packages/test-kit/src/scripts.ts";

const root = resolve(import.meta.dirname, "../..");

/**
 * A port block away from the dev defaults (8101…, 2121, 2990, 30000–30049) whose listening ports are
 * free, for this start (`offset`) and the smaller ones below (`offset + 25`); at most 35,450 so that
 * the passive range still ends below 65,536.
 */
async function freeOffset(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const candidate = 20_000 + Math.floor(Math.random() * 310) * 50;
    const ports = [8101, 8102, 8103, 8104, 2121, 2990].flatMap((port) => [
      port + candidate,
      port + candidate + 25,
    ]);
    if ((await Promise.all(ports.map(portIsFree))).every(Boolean)) return candidate;
  }
  throw new Error("no free block of dev ports");
}
const offset = await freeOffset();
const data = mkdtempSync(join(tmpdir(), "wharf-start-"));

function waitForOutput(child: ChildProcess, pattern: RegExp, output: () => string): Promise<void> {
  return new Promise((done, fail) => {
    const check = () => {
      const crashed = /^\[[\w-]+\] exited \(.*$/m.exec(output());
      if (crashed) fail(new Error(`${crashed[0]}:\n${output()}`));
      else if (pattern.test(output())) {
        child.stdout?.off("data", check);
        child.stderr?.off("data", check);
        done();
      }
    };
    child.stdout?.on("data", check);
    child.stderr?.on("data", check);
    child.once("exit", (code) => fail(new Error(`start exited early (${code}):\n${output()}`)));
    check();
  });
}

async function ftpGreeting(port: number): Promise<string> {
  return new Promise((done, fail) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("data", (chunk) => {
      socket.destroy();
      done(chunk.toString());
    });
    socket.once("error", fail);
  });
}

describe("./wharf start", () => {
  let output = "";
  const child = spawn(process.execPath, [join(root, "infra/dev/start.ts")], {
    env: { ...process.env, WHARF_DATA_DIR: data, WHARF_DEV_PORT_OFFSET: String(offset) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });

  afterAll(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(data, { recursive: true, force: true });
  });

  it("starts every gateway on local disk, each healthy and printing how to authenticate", async () => {
    await waitForOutput(child, /lfs-router:[\s\S]*token/, () => output);
    await waitForOutput(child, /bitstore[\s\S]*Auth-Token/, () => output);
    await waitForOutput(child, /ftps-gateway:[\s\S]*password/, () => output);
    await waitForOutput(child, /registry-usage:[\s\S]*Bearer/, () => output);
    for (const port of [8101, 8102, 8103, 8104]) {
      const res = await fetch(`http://127.0.0.1:${port + offset}/healthz`);
      expect({ port, status: res.status }).toEqual({ port, status: 200 });
    }
    expect(await ftpGreeting(2121 + offset)).toMatch(/^220 /);
    expect(output).toContain(`http://127.0.0.1:${8101 + offset}`);
    // Regression: with an offset, the printed notes still said 8101/8102/2121.
    expect(output).toContain(
      `[ftps-gateway] FTP with AUTH TLS on 127.0.0.1:${2121 + offset}, implicit FTPS on ${2990 + offset}, passive ${30000 + offset}-${30049 + offset}`,
    );
    expect(output).toContain(`[lfs-router] Git LFS on http://127.0.0.1:${8101 + offset}/`);
  });

  it("stops every gateway gracefully on SIGINT", async () => {
    const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    const stopped = output.match(/"msg":"stopped"/g) ?? [];
    expect(stopped.length).toBe(4);
    expect(output).not.toMatch(/second signal|exited \(/);
  });
});

/** `node infra/dev/start.ts …` with its own data folder and the test's port block. */
function start(args: string[], env: Record<string, string> = {}) {
  return spawnServer({
    args: [join(root, "infra/dev/start.ts"), ...args],
    env: { WHARF_DATA_DIR: data, WHARF_DEV_PORT_OFFSET: String(offset + 25), ...env },
  });
}

describe("./wharf start, what goes wrong", () => {
  // Regression: `./wharf start lfs` printed "no gateway to start yet" and exited 0.
  it("refuses an unknown app name with the list of apps, exit 2", async () => {
    await using run = start(["lfs"]);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toBe(
      "wharf start: no app named lfs; the apps are: bitstore, ftps-gateway, lfs-router, registry-usage, tycho\n",
    );
  });

  // Regression: an offset ≥ 35,486 pushed the passive range past 65535 and ftps-gateway refused to start.
  it("refuses a port offset that pushes a port past 65535, naming the largest that fits, exit 2", async () => {
    await using run = start([], { WHARF_DEV_PORT_OFFSET: "35487" });
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toBe(
      "wharf start: WHARF_DEV_PORT_OFFSET=35487 moves port 30049 to 65536, past 65535: use at most 35486\n",
    );
  });

  // Regression: every app died of EADDRINUSE and `./wharf start` still exited 0.
  it("exits with the app's code when an app cannot start, after its one-line reason", async () => {
    await using busy = await occupiedPort(8101 + offset + 25);
    await using run = start(["lfs-router"]);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain(
      `lfs-router: PORT: listen EADDRINUSE: address already in use 127.0.0.1:${busy.port}; stop what listens there`,
    );
  });

  // Regression: `./wharf start 2>&1 | tee log`, then Ctrl-C: the apps wrote to a pipe nobody read and never exited.
  it("stops every app on SIGINT when its output pipe has no reader any more", async () => {
    await using run = start(["lfs-router", "ftps-gateway"]);
    await run.waitFor(
      /lfs-router:[\s\S]*token[\s\S]*ftps-gateway:|ftps-gateway:[\s\S]*lfs-router:[\s\S]*token/,
    );
    expect(await run.stopWithoutReader("SIGINT")).toBe(0);
  });
});

describe("./wharf --help", () => {
  it("prints the usage comment and none of the script", async () => {
    const { stdout } = await promisify(execFile)(join(root, "wharf"), ["--help"]);
    expect(stdout).toMatch(/^Wharf's entry point[\s\S]*\.\/wharf start \[app…\]/);
    expect(stdout).not.toMatch(/set -euo|pipefail/);
  });
});
