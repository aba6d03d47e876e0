import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { buffer } from "node:stream/consumers";
import { type BodyInput, createMemoryDriver, type StorageDriver } from "@wharf/storage-driver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, startGateway } from "./harness.ts";
import { RawFtp, readAllData } from "./raw-client.ts";

/**
 * A store that is slow to commit: `put` reads the whole body, then waits before the object becomes
 * visible (as the fs driver does while it fsyncs, or S3 while it completes a multipart upload).
 */
function slowCommitDriver(inner: StorageDriver, commitMs: number) {
  const state = { committed: 0 };
  const driver: StorageDriver = {
    ...inner,
    async put(key, body: BodyInput, options) {
      const bytes =
        typeof body === "string" || body instanceof Uint8Array
          ? body
          : await buffer(body as AsyncIterable<Uint8Array>);
      await new Promise((resolve) => setTimeout(resolve, commitMs));
      const info = await inner.put(key, bytes, options);
      state.committed++;
      return info;
    },
  };
  return { driver, state };
}

let gateway: Gateway;
let ca: string;
const slow = slowCommitDriver(createMemoryDriver(), 400);

beforeAll(async () => {
  gateway = await startGateway({ driver: slow.driver });
  ca = await readFile(gateway.caFile, "utf8");
});
afterAll(async () => {
  await gateway?.[Symbol.asyncDispose]();
});

describe("upload completion (bench report: RETR right after STOR found no file)", () => {
  it("sends 226 only once the store committed the upload, so SIZE and RETR right after see the whole file", async () => {
    await using ftp = await RawFtp.connect(gateway.implicitPort, { ca, implicit: true });
    await ftp.read();
    await ftp.login();
    const payload = randomBytes(6 * 1024 * 1024 + 17);
    const port = await ftp.epsvPort();
    ftp.write("STOR fresh.bin\r\n");
    const data = await ftp.openData(port);
    expect((await ftp.read()).code).toBe(150);
    const before = slow.state.committed;
    data.end(payload);
    expect((await ftp.read()).code).toBe(226);
    expect(slow.state.committed).toBe(before + 1);

    expect((await ftp.send("SIZE fresh.bin")).text).toBe(`213 ${payload.length}`);
    const retrPort = await ftp.epsvPort();
    ftp.write("RETR fresh.bin\r\n");
    const retrData = await ftp.openData(retrPort);
    expect((await ftp.read()).code).toBe(150);
    const received = await readAllData(retrData);
    expect((await ftp.read()).code).toBe(226);
    expect(received.equals(payload)).toBe(true);
  });
});
