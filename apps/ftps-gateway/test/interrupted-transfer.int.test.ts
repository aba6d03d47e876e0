import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { openStorage, type StorageDriver } from "@wharf/storage-driver";
import { createTestBucket, s3Env, type TestBucket, tempDir } from "@wharf/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, startGateway } from "./harness.ts";
import { RawFtp, readAllData, tcpOf } from "./raw-client.ts";

// Regression (issue 20): an interrupted RETR on the fs store ended the gateway with an unheard
// stream error (`ECONNRESET` on the data socket, `AbortError` from the fs driver's body). Vitest
// fails the run on any uncaught exception, and each case then checks the gateway still serves.
// An APPE reset over TLS while the old bytes were copied did the same (the upload body's error).

/** Larger than the loopback socket buffers, so the gateway is still sending when the client stops. */
const BIG = randomBytes(12 * 1024 * 1024);
const SMALL = Buffer.from("still serving\n");

type Way = "ABOR" | "QUIT" | "data FIN" | "data RST" | "control FIN" | "control RST";
const ways: Way[] = ["ABOR", "QUIT", "data FIN", "data RST", "control FIN", "control RST"];

async function login(gateway: Gateway, ca: string, tls: boolean): Promise<RawFtp> {
  const ftp = await RawFtp.connect(tls ? gateway.implicitPort : gateway.port, { ca, implicit: tls });
  expect((await ftp.read()).code).toBe(220);
  expect((await ftp.send("USER u")).code).toBe(331);
  expect((await ftp.send("PASS p")).code).toBe(230);
  if (tls) {
    await ftp.send("PBSZ 0");
    expect((await ftp.send("PROT P")).code).toBe(200);
  }
  return ftp;
}

async function retr(ftp: RawFtp, key: string, tls: boolean): Promise<Socket | TLSSocket> {
  const dataPort = await ftp.epsvPort();
  ftp.write(`RETR ${key}\r\n`);
  const data = await ftp.openData(dataPort, { plain: !tls });
  expect((await ftp.read()).code).toBe(150);
  return data;
}

/** Reads the first bytes of a download, then stops reading (the gateway's writes back up). */
async function readSome(data: Socket | TLSSocket): Promise<void> {
  await new Promise<void>((resolve) => data.once("data", () => resolve()));
  data.pause();
}

async function interrupt(ftp: RawFtp, data: Socket | TLSSocket, way: Way): Promise<void> {
  data.on("error", () => {});
  switch (way) {
    case "ABOR":
      ftp.write("ABOR\r\n");
      expect((await ftp.read()).code).toBe(426);
      expect((await ftp.read()).code).toBe(226);
      data.destroy();
      return;
    case "QUIT":
      ftp.write("QUIT\r\n");
      await ftp.waitClosed();
      data.destroy();
      return;
    case "data FIN":
      data.destroy();
      expect((await ftp.read()).code).toBe(426);
      return;
    case "data RST":
      tcpOf(data).resetAndDestroy();
      expect((await ftp.read()).code).toBe(426);
      return;
    case "control FIN":
      ftp.socket.destroy();
      await ftp.waitClosed();
      data.destroy();
      return;
    case "control RST":
      ftp.tcp.resetAndDestroy();
      await ftp.waitClosed();
      data.destroy();
  }
}

/**
 * An APPE whose data connection is reset at once: the gateway is still copying the file's old bytes
 * into the new object when the upload body fails (it is read only after them).
 */
async function appendReset(gateway: Gateway, ftp: RawFtp, key: string, tls: boolean): Promise<void> {
  const handshakes = await tlsDataConnections(gateway);
  const dataPort = await ftp.epsvPort();
  ftp.write(`APPE ${key}\r\n`);
  const data = await ftp.openData(dataPort, { plain: !tls });
  data.on("error", () => {});
  // The client's handshake ends before the gateway's: a reset before the gateway counts the data
  // connection is a failed handshake (425), not a failed upload.
  while (tls && (await tlsDataConnections(gateway)) === handshakes) await new Promise(setImmediate);
  tcpOf(data).resetAndDestroy();
  expect([150, 426]).toContain((await ftp.read()).code);
}

async function tlsDataConnections(gateway: Gateway): Promise<number> {
  const text = await (await fetch(`${gateway.healthUrl}/metrics`)).text();
  let total = 0;
  for (const match of text.matchAll(/^ftps_gateway_tls_data_connections_total\{[^}]*\} (\d+)$/gm))
    total += Number(match[1]);
  return total;
}

function describeStore(name: string, open: () => Promise<{ driver: StorageDriver } & AsyncDisposable>) {
  describe.each([
    { mode: "plain FTP", tls: false },
    { mode: "implicit FTPS", tls: true },
  ])(`a transfer interrupted on ${name}, $mode`, ({ tls }) => {
    let store: { driver: StorageDriver } & AsyncDisposable;
    let gateway: Gateway;
    let ca: string;
    beforeAll(async () => {
      store = await open();
      await store.driver.put("big.bin", BIG);
      await store.driver.put("small.txt", SMALL);
      gateway = await startGateway({ driver: store.driver, env: { FTP_TLS_REQUIRED: "false" } });
      ca = await readFile(gateway.caFile, "utf8");
    });
    afterAll(async () => {
      await gateway?.[Symbol.asyncDispose]();
      await store?.[Symbol.asyncDispose]();
    });

    it.each(ways)("survives %s during RETR; the next downloads land whole", async (way) => {
      const ftp = await login(gateway, ca, tls);
      const data = await retr(ftp, "big.bin", tls);
      await readSome(data);
      await interrupt(ftp, data, way);
      await using next = await login(gateway, ca, tls);
      const small = await retr(next, "small.txt", tls);
      expect(await readAllData(small)).toEqual(SMALL);
      expect((await next.read()).code).toBe(226);
      const big = await retr(next, "big.bin", tls);
      const received = await readAllData(big);
      expect(createHash("sha256").update(received).digest("hex")).toBe(
        createHash("sha256").update(BIG).digest("hex"),
      );
      expect((await next.read()).code).toBe(226);
      await ftp[Symbol.asyncDispose]();
    });

    it("keeps a file whole when an APPE to it is reset while its old bytes are copied", async () => {
      await store.driver.put("append.bin", BIG);
      await using ftp = await login(gateway, ca, tls);
      await appendReset(gateway, ftp, "append.bin", tls);
      const code = (await ftp.read()).code;
      expect(code === 426 || code === 226, `reply ${code}`).toBe(true);
      await using next = await login(gateway, ca, tls);
      const data = await retr(next, "append.bin", tls);
      expect((await readAllData(data)).equals(BIG)).toBe(true);
      expect((await next.read()).code).toBe(226);
    });
  });
}

describeStore("fs", async () => {
  const dir = await tempDir("ftps-interrupted-");
  const driver = await openStorage(`file://${dir.path}`, { fsEtag: "version" });
  return {
    driver,
    [Symbol.asyncDispose]: async () => {
      await driver.close();
      await dir[Symbol.asyncDispose]();
    },
  };
});

describeStore("s3 (Ceph)", async () => {
  const env = s3Env();
  const bucket: TestBucket = await createTestBucket("ftps-interrupted");
  const url = `s3://${bucket.name}?endpoint=${encodeURIComponent(env.endpoint)}&region=${env.region}&forcePathStyle=true`;
  const driver = await openStorage(url, {
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
  });
  return {
    driver,
    [Symbol.asyncDispose]: async () => {
      await driver.close();
      await bucket[Symbol.asyncDispose]();
    },
  };
});
