import { readFile } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";
import { createMemoryDriver, type StorageDriver } from "@wharf/storage-driver";
import { describe, expect, it } from "vitest";
import { startGateway } from "./harness.ts";
import { RawFtp } from "./raw-client.ts";

const mib = 1024 * 1024;

/** Logs in, sends STOR and returns the open data connection once the gateway said 150. */
async function startStor(ftp: RawFtp, name: string) {
  await ftp.read();
  await ftp.login();
  const port = await ftp.epsvPort();
  ftp.write(`STOR ${name}\r\n`);
  const data = await ftp.openData(port);
  data.on("error", () => {});
  expect((await ftp.read()).code).toBe(150);
  return data;
}

describe("what the log says about an interrupted upload", () => {
  it('logs the bytes that arrived before ABOR (regression: an aborted STOR logged "bytes":0)', async () => {
    // A long EOF grace: the upload cannot commit before ABOR, whatever the machine's load.
    await using gateway = await startGateway({ driver: createMemoryDriver(), eofGraceMs: 60_000 });
    await using ftp = await RawFtp.connect(gateway.port, { ca: await readFile(gateway.caFile, "utf8") });
    const data = await startStor(ftp, "partial.bin");
    const sent = 3 * mib + 17;
    data.end(Buffer.alloc(sent, 7));
    // The gateway ends its side once it has read our EOF, so every byte has arrived.
    await new Promise<void>((resolve) => data.once("close", () => resolve()));
    expect((await ftp.send("ABOR")).code).toBe(426);
    expect((await ftp.read()).code).toBe(226);
    const transfers = gateway.log.filter((line) => line.msg === "transfer");
    expect(transfers).toEqual([
      expect.objectContaining({ direction: "upload", outcome: "aborted", bytes: sent }),
    ]);
  });

  it("waits at shutdown for the abort of an interrupted multipart upload and logs it as done (regression: logged at error level as left behind while it was in flight)", async () => {
    const memory = createMemoryDriver();
    const created: string[] = [];
    const aborted: string[] = [];
    // A store whose abort takes a moment, as a real S3 round trip does.
    const driver: StorageDriver = {
      ...memory,
      // Buffered parts, as on S3: the gateway streams a STOR as a multipart upload.
      capabilities: { ...memory.capabilities, preferredWriteBufferBytes: 5 * mib },
      async createMultipart(key, options) {
        const id = await memory.createMultipart(key, options);
        created.push(id);
        return id;
      },
      async abortMultipart(key, id) {
        await delay(300);
        await memory.abortMultipart(key, id);
        aborted.push(id);
      },
    };
    await using gateway = await startGateway({ driver });
    await using ftp = await RawFtp.connect(gateway.port, { ca: await readFile(gateway.caFile, "utf8") });
    const data = await startStor(ftp, "big.bin");
    data.write(Buffer.alloc(12 * mib, 1));
    await expect.poll(() => created.length).toBe(1);

    await gateway.app.close(0);

    expect(aborted).toEqual(created);
    const said = gateway.log.filter((line) => /multipart upload/.test(String(line.msg)));
    expect(said).toEqual([
      expect.objectContaining({
        level: "info",
        msg: "aborted the multipart upload of an interrupted transfer",
        key: "big.bin",
        uploadId: created[0],
      }),
    ]);
  });
});
