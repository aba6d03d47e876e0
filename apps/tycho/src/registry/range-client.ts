import { connect, type Socket } from "node:net";
import { WharfError } from "@wharf/errors";

/**
 * Where a response body goes, block by block. `space()` is the free rest of the current block
 * (never empty); `advance(n)` says `n` bytes were put at its start and returns a promise when the
 * reader must wait (a full block is being written) before more bytes may come.
 */
export interface BodySink {
  space(): Buffer;
  advance(bytes: number): Promise<void> | undefined;
}

export interface RangeRequest {
  /** A presigned GET URL (http:). */
  readonly url: URL;
  /** Bytes [start, end) of an object of `size` bytes. */
  readonly start: number;
  readonly end: number;
  readonly size: number;
  /** Unquoted etag the object must still have. */
  readonly ifMatch: string;
}

export interface RangeClient {
  /** Streams the range into `sink`; rejects with a `WharfError` (the body is then incomplete). */
  get(request: RangeRequest, sink: BodySink): Promise<void>;
  close(): void;
}

const headerLimit = 16 * 1024;
const headerEnd = Buffer.from("\r\n\r\n", "latin1");

/**
 * Ranged GETs over plain HTTP/1.1 keep-alive connections, one response at a time each. The socket
 * reads straight into the sink's blocks (`onread`): no per-read buffer, no copy by an HTTP parser,
 * which for a GiB pull were most of node:http's cost (perf: page faults and memmove of 64 KiB
 * buffers). Responses must carry a Content-Length, as S3's do.
 */
export function createRangeClient(options: { signal?: AbortSignal } = {}): RangeClient {
  const idle: Connection[] = [];
  const open = new Set<Connection>();
  let closed = false;
  const abort = () => {
    closed = true;
    for (const connection of open) connection.destroy();
  };
  options.signal?.addEventListener("abort", abort, { once: true });

  async function exchange(request: RangeRequest, sink: BodySink, fresh: boolean): Promise<void> {
    if (closed) throw new WharfError("CANCELLED", "operation cancelled");
    const reused = fresh ? undefined : idle.pop();
    const connection = reused ?? new Connection(request.url, () => open.delete(connection));
    open.add(connection);
    try {
      await connection.get(request, sink);
    } catch (error) {
      connection.destroy();
      if (closed) throw new WharfError("CANCELLED", "operation cancelled", { cause: error });
      // A kept-alive connection the server closed meanwhile fails before any byte: try a new one.
      if (reused && error instanceof StaleConnection) return exchange(request, sink, true);
      throw error instanceof StaleConnection ? unavailable(request, error.cause) : error;
    }
    if (connection.reusable) idle.push(connection);
    else connection.destroy();
  }

  return {
    get: (request, sink) => exchange(request, sink, false),
    close() {
      options.signal?.removeEventListener("abort", abort);
      abort();
    },
  };
}

class StaleConnection extends Error {}

interface Exchange {
  readonly request: RangeRequest;
  readonly sink: BodySink;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  /** Body bytes still to come; undefined while the head is read. */
  remaining: number | undefined;
  pending: Promise<void> | undefined;
}

class Connection {
  readonly #socket: Socket;
  readonly #head = Buffer.allocUnsafe(headerLimit);
  #headFilled = 0;
  #exchange: Exchange | undefined;
  #failed: unknown;
  reusable = true;

  constructor(url: URL, onClose: () => void) {
    this.#socket = connect({
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: Number(url.port || 80),
      noDelay: true,
      onread: { buffer: () => this.#buffer(), callback: (bytes: number) => this.#received(bytes) },
    });
    this.#socket.on("error", (error) => this.#fail(error));
    this.#socket.on("close", () => {
      onClose();
      this.#fail(new Error("connection closed"));
    });
  }

  get(request: RangeRequest, sink: BodySink): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#failed !== undefined) return reject(new StaleConnection("closed", { cause: this.#failed }));
      this.#exchange = { request, sink, resolve, reject, remaining: undefined, pending: undefined };
      const { url } = request;
      this.#socket.write(
        `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
          `Range: bytes=${request.start}-${request.end - 1}\r\nIf-Match: "${request.ifMatch}"\r\n` +
          "User-Agent: tycho\r\n\r\n",
        "latin1",
      );
      // Reading pauses while a full block is written; the last response may have ended so.
      this.#socket.resume();
    });
  }

  destroy(): void {
    this.reusable = false;
    this.#socket.destroy();
  }

  /** The memory the next socket read goes into. */
  #buffer(): Buffer {
    const exchange = this.#exchange;
    if (exchange?.remaining === undefined || exchange.remaining === 0)
      return this.#head.subarray(Math.min(this.#headFilled, headerLimit - 1));
    const space = exchange.sink.space();
    return space.length > exchange.remaining ? space.subarray(0, exchange.remaining) : space;
  }

  /** `bytes` arrived in the buffer last handed out; false pauses reading. */
  #received(bytes: number): boolean {
    const exchange = this.#exchange;
    if (exchange === undefined) {
      this.#fail(new Error("data outside a response"));
      return false;
    }
    try {
      if (exchange.remaining === undefined) this.#receivedHead(exchange, bytes);
      else this.#receivedBody(exchange, bytes);
    } catch (error) {
      this.#finish(exchange, error);
      return false;
    }
    if (exchange.pending === undefined) return true;
    void exchange.pending.then(
      () => {
        exchange.pending = undefined;
        if (exchange.remaining === 0) this.#finish(exchange);
        else this.#socket.resume();
      },
      (error: unknown) => this.#finish(exchange, error),
    );
    return false;
  }

  #receivedHead(exchange: Exchange, bytes: number): void {
    const searchFrom = Math.max(0, this.#headFilled - 3);
    this.#headFilled += bytes;
    const end = this.#head.subarray(0, this.#headFilled).indexOf(headerEnd, searchFrom);
    if (end < 0) {
      if (this.#headFilled >= headerLimit - 1) throw unavailable(exchange.request, "response head too large");
      return;
    }
    const length = this.#parseHead(exchange.request, this.#head.toString("latin1", 0, end));
    exchange.remaining = length;
    const early = this.#head.subarray(end + 4, this.#headFilled);
    this.#headFilled = 0;
    if (early.length > length) throw unavailable(exchange.request, "more bytes than the Content-Length");
    for (let offset = 0; offset < early.length; ) {
      const space = exchange.sink.space();
      const copied = early.copy(space, 0, offset);
      offset += copied;
      exchange.remaining -= copied;
      const pending = exchange.sink.advance(copied);
      if (pending)
        exchange.pending = exchange.pending
          ? Promise.all([exchange.pending, pending]).then(() => {})
          : pending;
    }
    if (exchange.remaining === 0 && exchange.pending === undefined) this.#finish(exchange);
  }

  #receivedBody(exchange: Exchange, bytes: number): void {
    exchange.remaining = (exchange.remaining as number) - bytes;
    exchange.pending = exchange.sink.advance(bytes);
    if (exchange.remaining === 0 && exchange.pending === undefined) this.#finish(exchange);
  }

  /** The body length, once the status and headers show the range as asked. */
  #parseHead(request: RangeRequest, head: string): number {
    const [statusLine = "", ...lines] = head.split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    if (status !== 206 && status !== 200) {
      this.reusable = false;
      throw statusError(request, status);
    }
    if (headers.get("connection")?.toLowerCase() === "close") this.reusable = false;
    const length = Number(headers.get("content-length"));
    const whole = status === 200 && request.start === 0 && request.end === request.size;
    const range = `bytes ${request.start}-${request.end - 1}/${request.size}`;
    if (headers.has("transfer-encoding") || length !== request.end - request.start)
      throw unavailable(request, "the response is not the range asked for");
    if (status === 206 ? headers.get("content-range") !== range : !whole)
      throw unavailable(request, "the response is not the range asked for");
    return length;
  }

  #finish(exchange: Exchange, error?: unknown): void {
    if (this.#exchange !== exchange) return;
    this.#exchange = undefined;
    if (error === undefined) exchange.resolve();
    else {
      this.reusable = false;
      exchange.reject(error);
    }
  }

  #fail(error: unknown): void {
    this.#failed ??= error;
    this.reusable = false;
    const exchange = this.#exchange;
    if (exchange === undefined) return;
    // Nothing of the response came yet: the request may be sent again on a new connection.
    if (exchange.remaining === undefined && this.#headFilled === 0)
      this.#finish(exchange, new StaleConnection("closed", { cause: error }));
    else this.#finish(exchange, unavailable(exchange.request, error));
  }
}

function unavailable(request: RangeRequest, cause: unknown): WharfError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new WharfError(
    "UNAVAILABLE",
    `Reading bytes ${request.start}-${request.end - 1} from the store failed (${why}); try again`,
    { cause },
  );
}

function statusError(request: RangeRequest, status: number): WharfError {
  const where = `bytes ${request.start}-${request.end - 1}`;
  if (status === 412)
    return new WharfError("PRECONDITION_FAILED", `the object changed while it was read (${where})`);
  if (status === 404) return new WharfError("NOT_FOUND", `the object is gone (${where})`);
  if (status === 403) return new WharfError("PERMISSION_DENIED", `the store refused the read (${where})`);
  if (status === 416) return new WharfError("RANGE_NOT_SATISFIABLE", `range not satisfiable (${where})`);
  return unavailable(request, `HTTP ${status}`);
}
