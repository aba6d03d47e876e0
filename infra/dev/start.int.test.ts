import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
// A port block away from the dev defaults (8101…, 2121, 2990, 30000–30049), so a running `./wharf start`
// does not clash; at most 34,950 so that the passive range still ends below 65,536.
const offset = 20_000 + (process.pid % 300) * 50;
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
