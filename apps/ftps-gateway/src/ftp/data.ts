import { connect, createServer, type Server, type Socket } from "node:net";
import { WharfError } from "@wharf/errors";
import { plainAddress } from "../core/address.ts";

const ignore = () => {};

/** A passive data listener waiting for exactly one connection from the control connection's peer. */
export interface PassiveListener {
  readonly port: number;
  /** The accepted data socket; rejects after the timeout or when closed first. */
  accept(): Promise<Socket>;
  close(): void;
}

export interface PassiveOptions {
  readonly host: string;
  /** Configured range, or `undefined` for an ephemeral port. */
  readonly ports: { readonly first: number; readonly count: number } | undefined;
  readonly timeoutMs: number;
  /** Runs on each accepted socket before the peer check (the PROXY protocol); false: refused, closed. */
  readonly accept?: (socket: Socket) => Promise<boolean>;
  /** Called for each connection refused because it came from another address. */
  readonly onForeign?: (address: string) => void;
}

/**
 * Hands out passive ports from a range: each PASV/EPSV takes a random free port and gives it back
 * when its listener closes. Ports busy in another process are skipped.
 */
export function createPassivePool(options: PassiveOptions) {
  const inUse = new Set<number>();

  async function listenOn(port: number): Promise<Server | undefined> {
    const server = createServer({ pauseOnConnect: true });
    return new Promise((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) => {
        if (error.code === "EADDRINUSE" || error.code === "EACCES") resolve(undefined);
        else reject(error);
      });
      server.listen({ port, host: options.host, exclusive: true }, () => resolve(server));
    });
  }

  async function bind(): Promise<Server> {
    const range = options.ports;
    if (!range) {
      const server = await listenOn(0);
      if (server) return server;
    } else {
      const start = Math.floor(Math.random() * range.count);
      for (let i = 0; i < range.count; i++) {
        const port = range.first + ((start + i) % range.count);
        if (inUse.has(port)) continue;
        inUse.add(port);
        const server = await listenOn(port).catch(() => undefined);
        if (server) return server;
        inUse.delete(port);
      }
    }
    throw new WharfError("UNAVAILABLE", "no free passive port");
  }

  /** Opens a listener that accepts one connection from `peer` (an IP address). */
  async function open(peer: string): Promise<PassiveListener> {
    const server = await bind();
    const port = (server.address() as { port: number }).port;
    let settled: { socket?: Socket; error?: WharfError } | undefined;
    let waiter: { resolve: (s: Socket) => void; reject: (e: WharfError) => void } | undefined;
    let closed = false;

    const settle = (result: { socket?: Socket; error?: WharfError }) => {
      if (settled) {
        result.socket?.destroy();
        return;
      }
      settled = result;
      close();
      if (waiter) deliver(waiter);
    };
    const deliver = (w: NonNullable<typeof waiter>) => {
      if (settled?.socket) w.resolve(settled.socket);
      else w.reject(settled?.error ?? new WharfError("CANCELLED", "data connection closed"));
    };
    const timer = setTimeout(
      () => settle({ error: new WharfError("UNAVAILABLE", "no data connection arrived in time") }),
      options.timeoutMs,
    );
    server.on("connection", async (socket) => {
      // A reset while nobody reads yet (or under TLS) must not be unheard; reads and writes see it.
      socket.on("error", ignore);
      if (options.accept && !(await options.accept(socket))) return;
      const from = plainAddress(socket.remoteAddress);
      if (from !== peer) {
        options.onForeign?.(from);
        socket.destroy();
        return;
      }
      settle({ socket });
    });

    function close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      server.close(() => inUse.delete(port));
      if (!settled) settle({ error: new WharfError("CANCELLED", "passive listener closed") });
    }

    return {
      port,
      accept: () =>
        new Promise<Socket>((resolve, reject) => {
          waiter = { resolve, reject };
          if (settled) deliver(waiter);
        }),
      close: () => {
        close();
        if (settled?.socket && !waiter) settled.socket.destroy();
      },
    };
  }

  return { open, inUse: () => inUse.size };
}

export type PassivePool = ReturnType<typeof createPassivePool>;

/** Connects to a client's PORT/EPRT address (already checked to be the client's own). */
export function connectActive(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new WharfError("UNAVAILABLE", "active data connection timed out"));
    }, timeoutMs);
    const failed = (cause: Error) => {
      clearTimeout(timer);
      reject(new WharfError("UNAVAILABLE", "active data connection failed", { cause }));
    };
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", failed).on("error", ignore);
      resolve(socket);
    });
    socket.once("error", failed);
  });
}
