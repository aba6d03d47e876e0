import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isWharfError } from "@wharf/errors";
import { describe, expect, it } from "vitest";
import { type BodySink, createRangeClient, type RangeRequest } from "./range-client.ts";

const data = randomBytes(300_000);
const etag = "abc123";

type Behaviour = (
  request: IncomingMessage,
  response: ServerResponse,
  range: { start: number; end: number },
) => void;

function partialHead(response: ServerResponse, range: { start: number; end: number }): void {
  response.writeHead(206, {
    "content-length": range.end - range.start,
    "content-range": `bytes ${range.start}-${range.end - 1}/${data.length}`,
  });
}

/** A loopback HTTP server serving `data` by range; `behave` may do something else per request. */
async function serve(behave?: Behaviour) {
  let connections = 0;
  const server = createServer((request, response) => {
    const [, start = "0", end = "0"] = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? "") ?? [];
    const range = { start: Number(start), end: Number(end) + 1 };
    if (behave) return behave(request, response, range);
    if (request.headers["if-match"] !== `"${etag}"`) return response.writeHead(412).end();
    partialHead(response, range);
    response.end(data.subarray(range.start, range.end));
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    connections: () => connections,
    request: (start: number, end: number, ifMatch = etag): RangeRequest => ({
      url: new URL(`http://127.0.0.1:${port}/bucket/key?X-Amz-Signature=x`),
      start,
      end,
      size: data.length,
      ifMatch,
    }),
    [Symbol.asyncDispose]: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Collects a body in blocks of `blockSize`, waiting a tick on each full block like a file write. */
function collector(blockSize = 4096) {
  const blocks: Buffer[] = [];
  let block = Buffer.alloc(blockSize);
  let filled = 0;
  const sink: BodySink = {
    space: () => block.subarray(filled),
    advance(bytes) {
      filled += bytes;
      if (filled < block.length) return undefined;
      blocks.push(block);
      block = Buffer.alloc(blockSize);
      filled = 0;
      return new Promise((resolve) => setImmediate(resolve));
    },
  };
  return { sink, bytes: () => Buffer.concat([...blocks, block.subarray(0, filled)]) };
}

const code = (expected: string) => (error: unknown) => isWharfError(error) && error.code === expected;

describe("createRangeClient", () => {
  it("reads ranges one after another over one kept-alive connection", async () => {
    await using server = await serve();
    const client = createRangeClient();
    for (const [start, end] of [
      [0, 100_000],
      [100_000, 250_001],
      [250_001, data.length],
    ] as const) {
      const body = collector();
      await client.get(server.request(start, end), body.sink);
      expect(body.bytes().equals(data.subarray(start, end))).toBe(true);
    }
    client.close();
    expect(server.connections()).toBe(1);
  });

  it("sends the request again on a new connection when the server closed the idle one", async () => {
    await using server = await serve();
    const client = createRangeClient();
    await client.get(server.request(0, 10), collector().sink);
    server.server.closeIdleConnections();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const body = collector();
    await client.get(server.request(10, 5000), body.sink);
    expect(body.bytes().equals(data.subarray(10, 5000))).toBe(true);
    expect(server.connections()).toBe(2);
    client.close();
  });

  it("maps a changed object (412) to PRECONDITION_FAILED", async () => {
    await using server = await serve();
    const client = createRangeClient();
    await expect(client.get(server.request(0, 10, "other"), collector().sink)).rejects.toSatisfy(
      code("PRECONDITION_FAILED"),
    );
    client.close();
  });

  it("fails UNAVAILABLE on a body cut short, and on a range other than the one asked for", async () => {
    await using short = await serve((_request, response, range) => {
      partialHead(response, range);
      response.write(data.subarray(range.start, range.start + 1000));
      setTimeout(() => response.socket?.destroy(), 20);
    });
    const client = createRangeClient();
    await expect(client.get(short.request(0, 5000), collector().sink)).rejects.toSatisfy(code("UNAVAILABLE"));
    await using shifted = await serve((_request, response, range) => {
      partialHead(response, { start: range.start + 1, end: range.end + 1 });
      response.end(data.subarray(range.start + 1, range.end + 1));
    });
    await expect(client.get(shifted.request(0, 5000), collector().sink)).rejects.toSatisfy(
      code("UNAVAILABLE"),
    );
    client.close();
  });

  it("stops with CANCELLED when the signal aborts mid-body", async () => {
    await using server = await serve((_request, response, range) => {
      partialHead(response, range);
      response.write(data.subarray(range.start, range.start + 1000));
    });
    const controller = new AbortController();
    const client = createRangeClient({ signal: controller.signal });
    const pending = client.get(server.request(0, 5000), collector().sink);
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toSatisfy(code("CANCELLED"));
  });
});
