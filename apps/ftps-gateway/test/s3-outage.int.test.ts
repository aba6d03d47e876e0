import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import { isWharfError } from "@wharf/errors";
import { openStorage, type StorageDriver } from "@wharf/storage-driver";
import { createTestBucket, s3Env, type TestBucket } from "@wharf/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, startGateway } from "./harness.ts";
import { RawFtp } from "./raw-client.ts";
import { startTcpProxy } from "./tcp-proxy.ts";

let bucket: TestBucket;
let direct: StorageDriver;
let proxied: StorageDriver;
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
let gateway: Gateway;
let ca: string;

beforeAll(async () => {
  const env = s3Env();
  const credentials = { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey };
  bucket = await createTestBucket("ftps-outage");
  const target = new URL(env.endpoint);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 80) });
  const url = (endpoint: string) =>
    `s3://${bucket.name}?endpoint=${encodeURIComponent(endpoint)}&region=${env.region}&forcePathStyle=true`;
  direct = await openStorage(url(env.endpoint), { credentials });
  proxied = await openStorage(url(`http://127.0.0.1:${proxy.port}`), { credentials });
  gateway = await startGateway({ driver: proxied });
  ca = await readFile(gateway.caFile, "utf8");
});
afterAll(async () => {
  await gateway?.[Symbol.asyncDispose]();
  await proxied?.close();
  await direct?.close();
  await proxy?.[Symbol.asyncDispose]();
  await bucket?.[Symbol.asyncDispose]();
});

async function session(): Promise<RawFtp> {
  const ftp = await RawFtp.connect(gateway.implicitPort, { ca, implicit: true });
  await ftp.read();
  await ftp.login();
  return ftp;
}

async function store(ftp: RawFtp, name: string, body: Buffer): Promise<number> {
  const port = await ftp.epsvPort();
  ftp.write(`STOR ${name}\r\n`);
  const data = await ftp.openData(port);
  expect((await ftp.read()).code).toBe(150);
  data.end(body);
  return (await ftp.read()).code;
}

async function exists(key: string): Promise<boolean> {
  try {
    await direct.head(key);
    return true;
  } catch (error) {
    if (isWharfError(error, "NOT_FOUND")) return false;
    throw error;
  }
}

async function multipartUploads(): Promise<string[]> {
  const page = await bucket.client.send(new ListMultipartUploadsCommand({ Bucket: bucket.name }));
  return (page.Uploads ?? []).map((upload) => upload.Key ?? "");
}

describe("S3 unreachable mid-upload (TCP proxy in front of Ceph, cut)", () => {
  it("answers the upload with a 4xx reply, stores nothing, aborts the multipart upload once S3 is back, and keeps this and other sessions working", async () => {
    await using uploader = await session();
    await using bystander = await session();
    const port = await uploader.epsvPort();
    uploader.write("STOR outage.bin\r\n");
    const data = await uploader.openData(port);
    data.on("error", () => {});
    expect((await uploader.read()).code).toBe(150);
    const upstream = proxy.forwarded(6 * 1024 * 1024);
    data.write(randomBytes(40 * 1024 * 1024));
    await upstream;
    proxy.cut();

    const reply = await uploader.read();
    expect([426, 451, 452]).toContain(reply.code);
    data.destroy();
    expect((await bystander.send("NOOP")).code).toBe(200);

    await proxy.restore();
    expect(await exists("outage.bin")).toBe(false);
    expect((await uploader.send("NOOP")).code).toBe(200);
    expect(await store(uploader, "after.bin", Buffer.from("back again"))).toBe(226);
    expect(await store(bystander, "other.bin", Buffer.from("unaffected"))).toBe(226);
    expect(await exists("after.bin")).toBe(true);
    expect(await exists("outage.bin")).toBe(false);
    // The abort that failed during the outage is retried once the store is back: no parts leak.
    await expect.poll(() => multipartUploads(), { timeout: 30_000, interval: 500 }).toEqual([]);
    expect(gateway.app.pendingAborts()).toBe(0);
  });
});
