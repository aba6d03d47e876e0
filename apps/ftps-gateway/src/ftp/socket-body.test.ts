import { randomBytes } from "node:crypto";
import { connect, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { SocketBody } from "./socket-body.ts";

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

/** A loopback connection as the passive listener gets it (paused, not read yet) and its client. */
async function connection(): Promise<{ accepted: Socket; client: Socket; serverClosed: Promise<void> }> {
  const listener = createServer({ pauseOnConnect: true });
  server = listener;
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const { port } = listener.address() as { port: number };
  const accepted = new Promise<Socket>((resolve) => listener.once("connection", resolve));
  const client = connect({ port, host: "127.0.0.1" });
  const socket = await accepted;
  // The passive listener closes once it has its connection; the port goes back when it has closed.
  const serverClosed = new Promise<void>((resolve) => listener.close(() => resolve()));
  return { accepted: socket, client, serverClosed };
}

/** Sends `data` in uneven writes, then ends. */
async function send(client: Socket, data: Buffer): Promise<void> {
  const sizes = [1, 70_000, 3000, 65_536, 200_001];
  for (let at = 0, i = 0; at < data.length; i++) {
    const piece = data.subarray(at, at + sizes[i % sizes.length]!);
    at += piece.length;
    if (!client.write(piece)) await new Promise((resolve) => client.once("drain", resolve));
  }
  client.end();
}

describe("SocketBody", () => {
  it("fills the caller's buffers with every byte in order, then 0 once finished", async () => {
    const { accepted, client, serverClosed } = await connection();
    expect(SocketBody.canAdopt(accepted)).toBe(true);
    const body = new SocketBody(accepted);
    body.socket.once("end", () => body.finish());
    const data = randomBytes(3 * 1024 * 1024 + 5);
    void send(client, data);
    const parts: Buffer[] = [];
    for (;;) {
      const part = Buffer.alloc(1024 * 1024);
      // Start halfway into the buffer once, as a caller topping up a part does.
      const offset = parts.length === 1 ? 100 : 0;
      const n = await body.fill(part, offset);
      parts.push(part.subarray(offset, offset + n));
      if (offset + n < part.length) break;
    }
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    expect(body.bytes).toBe(data.length);
    expect(await body.fill(Buffer.alloc(10), 0)).toBe(0);
    // The wrapper left behind released its server slot: the listener closes.
    await serverClosed;
    body.socket.destroy();
  });

  it("reads as a stream for consumers that take one", async () => {
    const { accepted, client } = await connection();
    const body = new SocketBody(accepted);
    body.socket.once("end", () => body.finish());
    const data = randomBytes(1024 * 1024 + 333);
    void send(client, data);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it("fails a waiting fill with the reason and closes the connection", async () => {
    const { accepted, client } = await connection();
    const body = new SocketBody(accepted);
    client.write("partial");
    const pending = body.fill(Buffer.alloc(1024), 0);
    const closed = new Promise((resolve) => client.once("close", resolve));
    body.fail(new Error("control connection closed"));
    await expect(pending).rejects.toThrow("control connection closed");
    await expect(body.fill(Buffer.alloc(10), 0)).rejects.toThrow("control connection closed");
    client.resume();
    await closed;
  });

  it("leaves a socket that already reads to the ordinary path", async () => {
    const { accepted, client } = await connection();
    accepted.resume();
    await new Promise((resolve) => setImmediate(resolve));
    expect(SocketBody.canAdopt(accepted)).toBe(false);
    accepted.destroy();
    client.destroy();
  });
});
