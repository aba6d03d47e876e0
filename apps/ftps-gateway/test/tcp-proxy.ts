import { connect, createServer, type Socket } from "node:net";

/**
 * A loopback TCP proxy for fault tests: forwards to `target`, counts the bytes sent upstream, and can
 * be cut (every open connection reset, new ones refused) and restored.
 */
export async function startTcpProxy(target: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  let upstreamBytes = 0;
  let cut = false;
  let watchers: Array<{ bytes: number; resolve: () => void }> = [];

  const server = createServer((client) => {
    if (cut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("data", (chunk: Buffer) => {
      upstreamBytes += chunk.length;
      const reached = watchers.filter((w) => upstreamBytes >= w.bytes);
      watchers = watchers.filter((w) => upstreamBytes < w.bytes);
      for (const w of reached) w.resolve();
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1" }, resolve));
  const port = (server.address() as { port: number }).port;

  return {
    port,
    /** Resolves once at least `bytes` more bytes went upstream. */
    forwarded(bytes: number): Promise<void> {
      const goal = upstreamBytes + bytes;
      return new Promise((resolve) => watchers.push({ bytes: goal, resolve }));
    },
    cut() {
      cut = true;
      for (const socket of sockets) socket.resetAndDestroy();
    },
    restore() {
      cut = false;
    },
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
