import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Readable, Transform, Writable } from "node:stream";
import { isWharfError } from "@wharf/errors";
import { openStorage, type StorageDriver } from "@wharf/storage-driver";
import { type TempDir, tempDir } from "@wharf/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basicFtp } from "./clients.ts";
import { type Gateway, startGateway } from "./harness.ts";
import { RawFtp } from "./raw-client.ts";

let dir: TempDir;
let driver: StorageDriver;
let gateway: Gateway;
let ca: string;

beforeAll(async () => {
  dir = await tempDir("ftps-load-");
  driver = await openStorage(`file://${dir.path}`);
  gateway = await startGateway({ driver, env: { FTP_MAX_CONNECTIONS_PER_IP: "100" } });
  ca = await readFile(gateway.caFile, "utf8");
});
afterAll(async () => {
  await gateway?.[Symbol.asyncDispose]();
  await dir?.[Symbol.asyncDispose]();
});

const connectClient = () => basicFtp(gateway, { timeoutMs: 60_000 });

/** Deterministic bytes generated on the fly (never held in memory as a whole). */
function generated(total: number): Readable {
  let sent = 0;
  const block = randomBytes(1 << 20);
  return new Readable({
    read() {
      if (sent >= total) return this.push(null);
      const size = Math.min(block.length, total - sent);
      block[0] = (block[0]! + 1) & 255;
      sent += size;
      this.push(Buffer.from(block.subarray(0, size)));
    },
  });
}

function hashing(): { sink: Writable; digest: () => string } {
  const hash = createHash("sha256");
  return {
    sink: new Writable({
      write(chunk, _encoding, callback) {
        hash.update(chunk);
        callback();
      },
    }),
    digest: () => hash.digest("hex"),
  };
}

describe("load on fs", () => {
  it("serves 50 concurrent sessions, each uploading and reading back its own file", async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const ftp = await connectClient();
        try {
          const body = randomBytes(64 * 1024 + i);
          await ftp.uploadFrom(Readable.from([body]), `concurrent-${i}.bin`);
          const back = hashing();
          await ftp.downloadTo(back.sink, `concurrent-${i}.bin`);
          return back.digest() === createHash("sha256").update(body).digest("hex");
        } finally {
          ftp.close();
        }
      }),
    );
    expect(results.every(Boolean)).toBe(true);
  });

  it("round-trips 1 GiB over FTPS with identical bytes", async () => {
    const total = 1024 * 1024 * 1024;
    const ftp = await connectClient();
    try {
      const sent = createHash("sha256");
      const source = generated(total).pipe(
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            sent.update(chunk);
            callback(null, chunk);
          },
        }),
      );
      await ftp.uploadFrom(source, "big.bin");
      expect(await ftp.size("big.bin")).toBe(total);
      const back = hashing();
      await ftp.downloadTo(back.sink, "big.bin");
      expect(back.digest()).toBe(sent.digest("hex"));
      await ftp.remove("big.bin");
    } finally {
      ftp.close();
    }
  }, 240_000);

  it("stores nothing when a client closes data and control connections in the middle of a file", async () => {
    const ftp = await RawFtp.connect(gateway.implicitPort, { ca, implicit: true });
    await ftp.read();
    await ftp.login();
    const port = await ftp.epsvPort();
    ftp.write("STOR half.bin\r\n");
    const data = await ftp.openData(port);
    expect((await ftp.read()).code).toBe(150);
    await new Promise<void>((resolve) => data.write(randomBytes(3 * 1024 * 1024), () => resolve()));
    data.end();
    ftp.socket.end();
    await ftp.waitClosed();
    const failed = /transfers_total\{protocol="ftp",direction="upload",outcome="(broken|aborted)"\} 1/;
    while (!failed.test(await (await fetch(`${gateway.healthUrl}/metrics`)).text()))
      await new Promise((resolve) => setImmediate(resolve));
    await expect(driver.head("half.bin")).rejects.toSatisfy((error) => isWharfError(error, "NOT_FOUND"));
  });
});
