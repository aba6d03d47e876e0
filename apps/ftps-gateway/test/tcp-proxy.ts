import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A loopback TCP proxy for fault tests: forwards to `target`, counts the bytes sent upstream, and can
 * be cut as a stopped server is (its port closed: new connections refused; every open connection
 * reset) and restored on the same port.
 */
export async function startTcpProxy(target: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  let upstreamBytes = 0;
  let watchers: Array<{ bytes: number; resolve: () => void }> = [];

  const forward = (client: Socket) => {
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
  };
  const listen = (port: number) =>
    new Promise<Server>((resolve, reject) => {
      const server = createServer(forward);
      server.once("error", reject);
      server.listen({ port, host: "127.0.0.1" }, () => resolve(server));
    });
  let server: Server | undefined = await listen(0);
  const port = (server.address() as { port: number }).port;
  let closing = Promise.resolve();
  const stop = () => {
    const open = server;
    server = undefined;
    for (const socket of sockets) socket.resetAndDestroy();
    if (open) closing = new Promise<void>((resolve) => open.close(() => resolve()));
    return closing;
  };

  return {
    port,
    /** Resolves once at least `bytes` more bytes went upstream. */
    forwarded(bytes: number): Promise<void> {
      const goal = upstreamBytes + bytes;
      return new Promise((resolve) => watchers.push({ bytes: goal, resolve }));
    },
    /** As the server stopping: the port refuses connections and open ones are reset. */
    cut(): Promise<void> {
      return stop();
    },
    /** Listens again on the same port. */
    async restore(): Promise<void> {
      await closing;
      if (!server) server = await listen(port);
    },
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}
