import { connect } from "node:tls";
import { freePort, occupiedPort, spawnServer, type TempDir, tempDir } from "@wharf/test-kit";
import { describe, expect, it } from "vitest";

const appDir = new URL("..", import.meta.url).pathname;

/** The gateway as its start script runs it, outside dev mode, with no $HOME/ssl.crt. */
function gateway(dir: TempDir, env: Record<string, string>) {
  return spawnServer({
    args: ["bin/ftps-gateway.mjs"],
    cwd: appDir,
    env: {
      HOME: dir.path,
      WHARF_DEV: "",
      STORAGE_URL: `${dir.path}/store`,
      FTP_LISTEN_HOST: "127.0.0.1",
      FTP_USERS__1__LOGIN: "u",
      FTP_USERS__1__PASSWORD: "p",
      FTP_SHUTDOWN_GRACE_SECONDS: "1",
      ...env,
    },
  });
}

describe("ftps-gateway process", () => {
  // Regression: `./wharf start ftps-gateway 2>&1 | tee log`, Ctrl-C: it never exited (EPIPE loop).
  it("exits 0 on SIGTERM while its stdout pipe has no reader", async () => {
    await using dir = await tempDir("ftps-process-");
    await using server = gateway(dir, {
      FTP_COMMAND_PORT: String(await freePort()),
      FTP_TLS_SELF_SIGNED: "true",
    });
    await server.waitFor(/"msg":"listening"/);
    expect(await server.stopWithoutReader()).toBe(0);
  });

  // Regression: outside dev, a certificate was generated at every start, visible only as tlsGenerated:true.
  it("refuses to start without a certificate outside dev: one line, exit 2", async () => {
    await using dir = await tempDir("ftps-process-");
    await using server = gateway(dir, { FTP_COMMAND_PORT: String(await freePort()) });
    expect(await server.exited).toBe(2);
    expect(server.stderr()).toMatch(
      /^ftps-gateway: FTP_TLS_CERT_FILE: no TLS certificate configured .*; set FTP_TLS_CERT_FILE and FTP_TLS_KEY_FILE, or FTP_TLS_SELF_SIGNED=true .*\n$/,
    );
  });

  it("with FTP_TLS_SELF_SIGNED=true, warns with the fingerprint of the certificate it serves", async () => {
    await using dir = await tempDir("ftps-process-");
    const implicitPort = await freePort();
    await using server = gateway(dir, {
      FTP_COMMAND_PORT: String(await freePort()),
      FTP_IMPLICIT_PORT: String(implicitPort),
      FTP_TLS_SELF_SIGNED: "true",
    });
    await server.waitFor(/"msg":"listening"/);
    const warning = server
      .stdout()
      .split("\n")
      .find((line) => line.includes("FTP_TLS_SELF_SIGNED=true"));
    const socket = connect({ port: implicitPort, host: "127.0.0.1", rejectUnauthorized: false });
    await new Promise((resolve) => socket.once("secureConnect", resolve));
    const served = socket.getPeerX509Certificate()?.fingerprint256;
    socket.destroy();
    expect(JSON.parse(warning ?? "{}")).toMatchObject({ level: "warn", sha256: served });
  });

  it("reports a busy command port as one line naming FTP_COMMAND_PORT, exit 2", async () => {
    await using dir = await tempDir("ftps-process-");
    await using busy = await occupiedPort();
    await using server = gateway(dir, { FTP_COMMAND_PORT: String(busy.port), FTP_TLS_SELF_SIGNED: "true" });
    expect(await server.exited).toBe(2);
    expect(server.stderr()).toBe(
      `ftps-gateway: FTP_COMMAND_PORT: listen EADDRINUSE: address already in use 127.0.0.1:${busy.port}; stop what listens there, or set another FTP_COMMAND_PORT\n`,
    );
  });

  it("names an unreadable key or certificate file on one line, exit 2", async () => {
    await using dir = await tempDir("ftps-process-");
    await using jwt = gateway(dir, {
      FTP_COMMAND_PORT: String(await freePort()),
      FTP_TLS_SELF_SIGNED: "true",
      FTP_JWT_PUBLIC_KEY_FILE: `${dir.path}/missing.pem`,
    });
    await using cert = gateway(dir, {
      FTP_COMMAND_PORT: String(await freePort()),
      FTP_TLS_CERT_FILE: `${dir.path}/cert.pem`,
      FTP_TLS_KEY_FILE: `${dir.path}/key.pem`,
    });
    expect([await jwt.exited, await cert.exited]).toEqual([2, 2]);
    expect(jwt.stderr()).toMatch(
      /^ftps-gateway: FTP_JWT_PUBLIC_KEY_FILE: ENOENT: .*missing\.pem.*; point it at a readable PEM public key\n$/,
    );
    expect(cert.stderr()).toMatch(
      /^ftps-gateway: FTP_TLS_CERT_FILE: ENOENT: .*\.pem.*; point FTP_TLS_CERT_FILE/,
    );
  });

  it("lists a mistyped STORAGE_URL with the configuration problems, exit 2", async () => {
    await using dir = await tempDir("ftps-process-");
    await using server = gateway(dir, { STORAGE_URL: "s4://bucket" });
    expect(await server.exited).toBe(2);
    expect(server.stderr()).toMatch(
      /^ftps-gateway: invalid configuration:\n {2}- STORAGE_URL: .*s4:\/\/bucket/,
    );
  });
});
