import { createServer as createHttpServer, request as httpRequest, type IncomingMessage } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";

export interface ProxyOptions {
  /** Serve https with this certificate and key (PEM). */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** Flip the first byte of the response body of requests this picks, as a faulty network would. */
  readonly corrupt?: (request: IncomingMessage) => boolean;
}

/**
 * A loopback reverse proxy in front of an S3 endpoint. Requests pass unchanged (Host included), so
 * their SigV4 signatures still verify at the store.
 */
export async function s3Proxy(target: string, options: ProxyOptions = {}) {
  const upstream = new URL(target);
  const handle = (request: IncomingMessage, response: import("node:http").ServerResponse) => {
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
      },
      (reply) => {
        response.writeHead(reply.statusCode ?? 502, reply.headers);
        let flipped = !options.corrupt?.(request);
        const body = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            if (!flipped && chunk.length > 0) {
              chunk[0] = (chunk[0] as number) ^ 0xff;
              flipped = true;
            }
            callback(null, chunk);
          },
        });
        pipeline(reply, body, response).catch(() => response.destroy());
      },
    );
    forward.on("error", () => response.destroy());
    pipeline(request, forward).catch(() => forward.destroy());
  };
  const server = options.tls ? createHttpsServer(options.tls, handle) : createHttpServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    [Symbol.asyncDispose]: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
