import { freePort, occupiedPort, spawnServer } from "@wharf/test-kit";
import { describe, expect, it } from "vitest";

const entry = new URL("./guarded-server.ts", import.meta.url).pathname;

async function startGuarded(env: Record<string, string> = {}) {
  const port = await freePort();
  const server = spawnServer({ args: [entry], env: { PORT: String(port), ...env } });
  return { server, url: `http://127.0.0.1:${port}` };
}

/** Resolves with the exit, or with "still running" after `ms` (the bound the test guards). */
function exitWithin(exited: Promise<number | string>, ms: number): Promise<number | string> {
  return Promise.race([exited, new Promise<string>((r) => setTimeout(() => r("still running"), ms).unref())]);
}

describe("shutdown", () => {
  // Regression: `./wharf start 2>&1 | tee log` then Ctrl-C: the servers wrote "stopped" to a pipe
  // with no reader and sonic-boom's exit flush retried the EPIPE forever; they never exited.
  it("exits 0 on SIGTERM when its stdout pipe has no reader", async () => {
    const { server } = await startGuarded();
    await using _ = server;
    await server.waitFor(/"msg":"listening"/);
    expect(await exitWithin(server.stopWithoutReader(), 5000)).toBe(0);
  });

  it("exits 0 on SIGTERM when its stdout pipe is full and nobody reads it", async () => {
    const { server, url } = await startGuarded();
    await using _ = server;
    await server.waitFor(/"msg":"listening"/);
    server.child.stdout.pause();
    await fetch(`${url}/fill`);
    server.child.kill("SIGTERM");
    expect(await exitWithin(server.exited, 5000)).toBe(0);
  });

  it("exits 1 at once on a second signal while the drain is still running", async () => {
    const { server } = await startGuarded({ HANG: "1" });
    await using _ = server;
    await server.waitFor(/"msg":"listening"/);
    server.child.kill("SIGINT");
    await server.waitFor(/"msg":"shutting down"/);
    server.child.kill("SIGTERM");
    expect(await exitWithin(server.exited, 2000)).toBe(1);
    expect(server.stdout()).toMatch(/second signal/);
  });
});

describe("start-up failures", () => {
  it("prints a StartupError as one line naming the setting and exits 2", async () => {
    await using server = spawnServer({ args: [entry], env: { FAIL_AT_START: "startup" } });
    expect(await server.exited).toBe(2);
    expect(server.stderr()).toBe(
      "guarded: KEY_FILE: cannot read /nowhere/key.pem (ENOENT); set KEY_FILE to a readable file\n",
    );
  });

  it("names the port setting on one line, exit 2, when the port is in use", async () => {
    await using busy = await occupiedPort();
    const { port } = busy;
    await using server = spawnServer({ args: [entry], env: { PORT: String(port) } });
    expect(await server.exited).toBe(2);
    expect(server.stderr()).toBe(
      `guarded: PORT: listen EADDRINUSE: address already in use 127.0.0.1:${port}; stop what listens there or set another PORT\n`,
    );
  });

  it("shows the stack of a bug at start and exits 1", async () => {
    await using server = spawnServer({ args: [entry], env: { FAIL_AT_START: "bug" } });
    expect(await server.exited).toBe(1);
    expect(server.stderr()).toMatch(
      /unexpected error while starting[\s\S]*TypeError: a bug while starting\n\s+at /,
    );
  });
});

describe("last line of defence while serving", () => {
  it("logs an unhandled rejection and an unheard stream error, and keeps serving", async () => {
    const { server, url } = await startGuarded();
    await using _ = server;
    await server.waitFor(/"msg":"listening"/);
    await fetch(`${url}/reject`);
    await server.waitFor(/"msg":"unhandled promise rejection; still serving"/);
    await fetch(`${url}/reset`);
    await server.waitFor(/read ECONNRESET[\s\S]*still serving/);
    const after = await fetch(`${url}/healthz`);
    expect(await after.text()).toBe("ok");
    expect(server.child.exitCode).toBeNull();
  });

  it("logs a programming error as fatal with its stack and exits 1, never silently", async () => {
    const { server, url } = await startGuarded();
    await using _ = server;
    await server.waitFor(/"msg":"listening"/);
    await fetch(`${url}/bug`);
    expect(await server.exited).toBe(1);
    const fatal = server
      .stdout()
      .split("\n")
      .filter((line) => line.includes('"level":"fatal"'))
      .map((line) => JSON.parse(line) as { msg: string; err: { type: string; stack: string } });
    expect(fatal).toMatchObject([{ msg: "unexpected error, exiting", err: { type: "TypeError" } }]);
    expect(fatal[0]?.err.stack).toContain("guarded-server.ts");
  });
});
