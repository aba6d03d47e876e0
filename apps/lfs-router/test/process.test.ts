import { freePort, occupiedPort, spawnServer, tempDir } from "@wharf/test-kit";
import { describe, expect, it } from "vitest";

const appDir = new URL("..", import.meta.url).pathname;

async function router(env: Record<string, string>) {
  return spawnServer({
    args: ["src/main.ts"],
    cwd: appDir,
    env: { HOST: "127.0.0.1", JWT_SECRET: "process-test-secret", WHARF_DEV: "", ...env },
  });
}

describe("lfs-router process", () => {
  // Regression: `./wharf start lfs-router 2>&1 | tee log`, Ctrl-C: it never exited (EPIPE loop).
  it("exits 0 on SIGTERM while its stdout pipe has no reader", async () => {
    await using dir = await tempDir("lfs-process-");
    await using server = await router({ PORT: String(await freePort()), STORAGE_URL: dir.path });
    await server.waitFor(/"msg":"listening"/);
    expect(await server.stopWithoutReader()).toBe(0);
  });

  it("reports a busy port as one line naming PORT, exit 2", async () => {
    await using dir = await tempDir("lfs-process-");
    await using busy = await occupiedPort();
    const { port } = busy;
    await using server = await router({ PORT: String(port), STORAGE_URL: dir.path });
    expect(await server.exited).toBe(2);
    expect(server.stderr()).toBe(
      `lfs-router: PORT: listen EADDRINUSE: address already in use 127.0.0.1:${port}; stop what listens there, or set another PORT or HOST\n`,
    );
  });

  // Regression: `s4://…` was a stack and exit 1, where the README promises the config list and exit 2.
  it("lists a mistyped STORAGE_URL with the other configuration problems, exit 2", async () => {
    await using server = await router({ PORT: "8080", STORAGE_URL: "s4://bucket/lfs" });
    expect(await server.exited).toBe(2);
    expect(server.stderr()).toMatch(
      /^lfs-router: invalid configuration:\n {2}- STORAGE_URL: .*s4:\/\/bucket\/lfs/,
    );
    expect(server.stderr()).not.toMatch(/\n\s+at /);
  });

  // Regression: an unreachable S3 endpoint in auto mode was an uncaught `TypeError: fetch failed`, exit 1.
  it("names the unreachable S3 endpoint on one line, exit 2", async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    await using server = await router({
      PORT: String(await freePort()),
      STORAGE_URL: `s3://lfs-bucket?endpoint=${encodeURIComponent(endpoint)}&region=us-east-1`,
      AWS_ACCESS_KEY_ID: "key",
      AWS_SECRET_ACCESS_KEY: "secret",
    });
    expect(await server.exited).toBe(2);
    // One line: the setting, the store, the cause (the connection was refused), what to do.
    const line = server.stderr();
    expect(line.split("\n")).toHaveLength(2);
    expect(
      line.startsWith(`lfs-router: STORAGE_URL: cannot reach the store at ${endpoint} (bucket lfs-bucket): `),
    ).toBe(true);
    expect(line).toContain("ECONNREFUSED");
    expect(
      line.endsWith(
        "; start the store, correct STORAGE_URL or its credentials, or set LFS_TRANSFER_MODE=proxy\n",
      ),
    ).toBe(true);
  });

  it("says on one line that S3 credentials are missing, exit 2", async () => {
    await using dir = await tempDir("lfs-process-");
    await using server = await router({
      PORT: String(await freePort()),
      STORAGE_URL: `s3://lfs-bucket?endpoint=${encodeURIComponent("http://127.0.0.1:9")}&region=us-east-1`,
      AWS_ACCESS_KEY_ID: "",
      AWS_SECRET_ACCESS_KEY: "",
      AWS_PROFILE: "",
      AWS_CONFIG_FILE: `${dir.path}/none`,
      AWS_SHARED_CREDENTIALS_FILE: `${dir.path}/none`,
      AWS_EC2_METADATA_DISABLED: "true",
    });
    expect(await server.exited).toBe(2);
    expect(server.stderr()).toMatch(
      /^lfs-router: STORAGE_URL: .*credentials.*; start the store, correct STORAGE_URL or its credentials[^\n]*\n$/,
    );
  });
});

// Issue 25: the router on a store without presign (a local folder: the fs driver signs no URLs
// unless asked to), as its README says.
describe("lfs-router on a store without presign", () => {
  it("serves in proxy mode when LFS_TRANSFER_MODE is auto", async () => {
    await using dir = await tempDir("lfs-caps-");
    await using server = await router({ PORT: String(await freePort()), STORAGE_URL: dir.path });
    await server.waitFor(/"msg":"listening"/);
    expect(server.stdout()).toMatch(/"mode":"proxy"/);
  });

  it("refuses LFS_TRANSFER_MODE=direct with one line naming presign, exit 2", async () => {
    await using dir = await tempDir("lfs-caps-");
    await using server = await router({
      PORT: String(await freePort()),
      STORAGE_URL: dir.path,
      LFS_TRANSFER_MODE: "direct",
    });
    expect(await server.exited).toBe(2);
    const lines = server.stderr().trimEnd().split("\n");
    expect(lines).toEqual([expect.stringMatching(/^lfs-router: LFS_TRANSFER_MODE: .*capability presign/)]);
  });
});
