import { writeFile } from "node:fs/promises";
import { freePort, occupiedPort, spawnServer, type TempDir, tempDir } from "@wharf/test-kit";
import { describe, expect, it } from "vitest";

const appDir = new URL("..", import.meta.url).pathname;

function bitstore(dir: TempDir, env: Record<string, string>) {
  return spawnServer({
    args: ["src/main.ts"],
    cwd: appDir,
    env: {
      HOST: "127.0.0.1",
      STORAGE_URL: `${dir.path}/store`,
      PUBLIC_URL: "http://127.0.0.1:1",
      STORAGE_ACCESS_KEY_ID: "process-test",
      STORAGE_SECRET_ACCESS_KEY: "process-test-secret",
      WHARF_DEV: "1",
      DEV_KEY_FILE: `${dir.path}/dev-key.pem`,
      ...env,
    },
  });
}

describe("bitstore process", () => {
  // Regression: `./wharf start bitstore 2>&1 | tee log`, Ctrl-C: it never exited (EPIPE loop).
  it("exits 0 on SIGTERM while its stdout pipe has no reader", async () => {
    await using dir = await tempDir("bitstore-process-");
    await using server = bitstore(dir, { PORT: String(await freePort()) });
    await server.waitFor(/"msg":"bitstore listening"/);
    expect(await server.stopWithoutReader()).toBe(0);
  });

  it("reports a busy port as one line naming PORT, exit 2", async () => {
    await using dir = await tempDir("bitstore-process-");
    await using busy = await occupiedPort();
    const { port } = busy;
    await using server = bitstore(dir, { PORT: String(port) });
    expect(await server.exited).toBe(2);
    expect(server.stderr()).toBe(
      `bitstore: PORT: listen EADDRINUSE: address already in use 127.0.0.1:${port}; stop what listens there, or set another PORT or HOST\n`,
    );
  });

  // Regression: an unreachable AUTH_SERVER was an uncaught `TypeError: fetch failed` stack, exit 1.
  it("names an unreachable AUTH_SERVER on one line, exit 2", async () => {
    await using dir = await tempDir("bitstore-process-");
    const authServer = `http://127.0.0.1:${await freePort()}`;
    await using server = bitstore(dir, {
      PORT: String(await freePort()),
      WHARF_DEV: "",
      AUTH_SERVER: authServer,
    });
    expect(await server.exited).toBe(2);
    expect(server.stderr()).toBe(
      `bitstore: AUTH_SERVER: cannot fetch the public key from ${authServer}/auth/public-key: fetch failed (ECONNREFUSED); start the auth server, correct AUTH_SERVER, or set DATAHUB_PUBLIC_KEY\n`,
    );
  });

  it("names an unwritable DEV_KEY_FILE on one line, exit 2", async () => {
    await using dir = await tempDir("bitstore-process-");
    await writeFile(`${dir.path}/not-a-folder`, "");
    const keyFile = `${dir.path}/not-a-folder/key.pem`;
    await using server = bitstore(dir, { PORT: String(await freePort()), DEV_KEY_FILE: keyFile });
    expect(await server.exited).toBe(2);
    expect(server.stderr()).toMatch(
      /^bitstore: DEV_KEY_FILE: E[A-Z]+: .*not-a-folder.*; point it at a writable file, or set DATAHUB_PUBLIC_KEY\n$/,
    );
  });
});
