import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import { isWharfError } from "@wharf/errors";
import { openStorage, type StorageDriver } from "@wharf/storage-driver";
import {
  createTestBucket,
  freePort,
  s3Env,
  spawnCheckedServer,
  type TestBucket,
  tempDir,
} from "@wharf/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, startGateway, testTls } from "./harness.ts";
import { RawFtp } from "./raw-client.ts";

let bucket: TestBucket;
let driver: StorageDriver;
let storageUrl: string;

beforeAll(async () => {
  const env = s3Env();
  bucket = await createTestBucket("ftps-faults");
  storageUrl = `s3://${bucket.name}?endpoint=${encodeURIComponent(env.endpoint)}&region=${env.region}&forcePathStyle=true`;
  driver = await openStorage(storageUrl, {
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
  });
});
afterAll(async () => {
  await driver?.close();
  await bucket?.[Symbol.asyncDispose]();
});

async function pendingUploads(): Promise<number> {
  const page = await bucket.client.send(new ListMultipartUploadsCommand({ Bucket: bucket.name }));
  return page.Uploads?.length ?? 0;
}

async function exists(key: string): Promise<boolean> {
  try {
    await driver.head(key);
    return true;
  } catch (error) {
    if (isWharfError(error, "NOT_FOUND")) return false;
    throw error;
  }
}

async function metric(gateway: { healthUrl: string }, pattern: RegExp): Promise<boolean> {
  return pattern.test(await (await fetch(`${gateway.healthUrl}/metrics`)).text());
}

/** Polls until `check` holds (the gateway finishes aborting in the background). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Logs in, starts `STOR key` and sends `bytes` without finishing: implicit FTPS, or with `plain` a
 * clear data connection (AUTH TLS on the control connection, then PROT C).
 */
async function startUpload(port: number, ca: string, key: string, bytes: number, plain = false) {
  const ftp = await RawFtp.connect(port, { ca, implicit: !plain });
  await ftp.read();
  await ftp.login();
  if (plain) expect((await ftp.send("PROT C")).code).toBe(200);
  const dataPort = await ftp.epsvPort();
  ftp.write(`STOR ${key}\r\n`);
  const data = await ftp.openData(dataPort, { plain });
  expect((await ftp.read()).code).toBe(150);
  await new Promise<void>((resolve) => data.write(randomBytes(bytes), () => resolve()));
  return { ftp, data };
}

// Plain data connections to S3 are read straight into the part buffers (SocketBody); FTPS ones as a stream.
describe.each([
  { mode: "implicit FTPS", plain: false },
  { mode: "plain FTP", plain: true },
])("faults on s3 (Ceph), $mode", ({ plain }) => {
  let gateway: Gateway;
  let ca: string;
  beforeAll(async () => {
    gateway = await startGateway({ driver, ...(plain ? { env: { FTP_TLS_REQUIRED: "false" } } : {}) });
    ca = await readFile(gateway.caFile, "utf8");
  });
  afterAll(async () => {
    await gateway?.[Symbol.asyncDispose]();
  });
  const port = () => (plain ? gateway.port : gateway.implicitPort);

  it("leaves no object and no multipart upload when the client disconnects mid-upload; others go on", async () => {
    const { ftp, data } = await startUpload(port(), ca, "dropped.bin", 12 * 1024 * 1024, plain);
    const other = await RawFtp.connect(port(), { ca, implicit: !plain });
    await other.read();
    await other.login();
    if (plain) await other.send("PROT C");
    data.destroy();
    ftp.socket.destroy();
    await eventually(() =>
      metric(gateway, /transfers_total\{protocol="ftp",direction="upload",outcome="(broken|aborted)"\} 1/),
    );
    await eventually(async () => (await pendingUploads()) === 0);
    expect(await exists("dropped.bin")).toBe(false);
    const dataPort = await other.epsvPort();
    other.write("STOR kept.bin\r\n");
    const otherData = await other.openData(dataPort, { plain });
    expect((await other.read()).code).toBe(150);
    otherData.end("still here");
    expect((await other.read()).code).toBe(226);
    expect(await exists("kept.bin")).toBe(true);
    await other[Symbol.asyncDispose]();
  });

  it("answers 426 and stores nothing when ABOR interrupts an upload", async () => {
    const { ftp } = await startUpload(port(), ca, "aborted.bin", 6 * 1024 * 1024, plain);
    ftp.write("ABOR\r\n");
    expect((await ftp.read()).code).toBe(426);
    expect((await ftp.read()).code).toBe(226);
    await eventually(async () => (await pendingUploads()) === 0);
    expect(await exists("aborted.bin")).toBe(false);
    await ftp[Symbol.asyncDispose]();
  });
});

/**
 * The gateway as its own process (main.ts) on the test bucket, healthy. Disposing it fails the test
 * if it logged an uncaught exception or exited without `server.stop`.
 */
async function spawnGateway(dir: string) {
  const tls = await testTls();
  await writeFile(join(dir, "cert.pem"), tls.cert);
  await writeFile(join(dir, "key.pem"), tls.key);
  const [port, implicitPort, healthPort] = [await freePort(), await freePort(), await freePort()];
  const env = s3Env();
  const server = spawnCheckedServer(join(import.meta.dirname, "../src/main.ts"), {
    env: {
      ...process.env,
      STORAGE_URL: storageUrl,
      AWS_ACCESS_KEY_ID: env.accessKeyId,
      AWS_SECRET_ACCESS_KEY: env.secretAccessKey,
      FTP_LISTEN_HOST: "127.0.0.1",
      FTP_COMMAND_PORT: String(port),
      FTP_IMPLICIT_PORT: String(implicitPort),
      HEALTHCHECK_PORT: String(healthPort),
      HEALTHCHECK_HOST: "127.0.0.1",
      FTP_TLS_CERT_FILE: join(dir, "cert.pem"),
      FTP_TLS_KEY_FILE: join(dir, "key.pem"),
      FTP_USERS__1__LOGIN: "u",
      FTP_USERS__1__PASSWORD: "p",
      FTP_SHUTDOWN_GRACE_SECONDS: "0.5",
      LOG_LEVEL: "info",
    },
  });
  await eventually(
    () =>
      fetch(`http://127.0.0.1:${healthPort}/healthz`).then(
        (r) => r.ok,
        () => false,
      ),
    90_000,
  );
  return { server, implicitPort, ca: tls.cert, [Symbol.asyncDispose]: () => server[Symbol.asyncDispose]() };
}

describe("a gateway process stopped mid-transfer", () => {
  it("SIGTERM: aborts the upload after the grace period: 426, no object, no multipart upload, exit 0", async () => {
    await using dir = await tempDir("ftps-sigterm-");
    await using gateway = await spawnGateway(dir.path);
    const { ftp } = await startUpload(gateway.implicitPort, gateway.ca, "sigterm.bin", 12 * 1024 * 1024);
    const exited = gateway.server.stop("SIGTERM");
    // The gateway's log says why a transfer failed, when a reply is not the expected one.
    expect((await ftp.read()).code, gateway.server.log()).toBe(426);
    expect((await ftp.read()).code, gateway.server.log()).toBe(421);
    expect(await exited).toBe(0);
    await eventually(async () => (await pendingUploads()) === 0);
    expect(await exists("sigterm.bin")).toBe(false);
  }, 180_000);

  it("SIGKILL: the next gateway aborts the multipart upload left behind when it starts", async () => {
    await using dir = await tempDir("ftps-sigkill-");
    await using gateway = await spawnGateway(dir.path);
    const { ftp } = await startUpload(gateway.implicitPort, gateway.ca, "killed.bin", 12 * 1024 * 1024);
    await eventually(async () => (await pendingUploads()) === 1);
    await gateway.server.stop("SIGKILL");
    ftp.socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await pendingUploads()).toBe(1);
    // A young upload could be another replica's: only those older than FTP_ABANDONED_UPLOAD_HOURS go.
    await using keeping = await startGateway({ driver });
    expect(await keeping.app.abandonedUploads()).toBe(0);
    expect(await pendingUploads()).toBe(1);
    await using next = await startGateway({ driver, env: { FTP_ABANDONED_UPLOAD_HOURS: String(1 / 3600) } });
    expect(await next.app.abandonedUploads()).toBe(1);
    expect(await pendingUploads()).toBe(0);
    expect(await exists("killed.bin")).toBe(false);
  }, 180_000);
});
