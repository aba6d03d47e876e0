import { BlockList, isIPv4, isIPv6, type Socket } from "node:net";
import { WharfError } from "@wharf/errors";

/**
 * The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2): a balancer in TCP mode puts a
 * header before the client's bytes naming the client's address, so the gateway can check, lock out
 * and log that address instead of the balancer's.
 */

export type ProxyVersion = 1 | 2;

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export type ProxyHeader =
  | {
      readonly version: ProxyVersion;
      readonly command: "proxy";
      readonly source: Endpoint;
      readonly destination: Endpoint;
    }
  /** v2 LOCAL (the balancer's own connection, e.g. a health check), v1 UNKNOWN, or a v2 family without
   * IP addresses (AF_UNSPEC, AF_UNIX): the connection's own addresses stand. */
  | { readonly version: ProxyVersion; readonly command: "local" };

export type ParseResult =
  | { readonly kind: "incomplete" }
  | { readonly kind: "header"; readonly header: ProxyHeader; readonly length: number };

const v1Prefix = Buffer.from("PROXY ");
/** The longest v1 line, CRLF included (proxy-protocol.txt §2.1). */
const v1MaxBytes = 107;
const v2Signature = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** Address block and TLVs a v2 header may carry here; HAProxy's own stay well below. */
export const v2MaxPayloadBytes = 2048;

const invalid = (message: string) => new WharfError("INVALID_ARGUMENT", `PROXY protocol: ${message}`);

/**
 * Reads a PROXY header at the start of `buffer`. Returns `incomplete` while more bytes could still make
 * a valid header, the header and its length once whole; throws `INVALID_ARGUMENT` for anything else.
 */
export function parseProxyHeader(buffer: Buffer, versions: readonly ProxyVersion[]): ParseResult {
  if (versions.includes(1) && startsLike(buffer, v1Prefix)) return parseV1(buffer);
  if (versions.includes(2) && startsLike(buffer, v2Signature)) return parseV2(buffer);
  throw invalid(`expected a version ${versions.join(" or ")} header`);
}

function startsLike(buffer: Buffer, prefix: Buffer): boolean {
  const n = Math.min(buffer.length, prefix.length);
  return buffer.subarray(0, n).equals(prefix.subarray(0, n));
}

function parseV1(buffer: Buffer): ParseResult {
  const end = buffer.subarray(0, v1MaxBytes).indexOf("\r\n");
  if (end === -1) {
    if (buffer.length >= v1MaxBytes) throw invalid("version 1 line longer than 107 bytes");
    if (buffer.includes(0x0a)) throw invalid("version 1 line not ended by CRLF");
    return { kind: "incomplete" };
  }
  const length = end + 2;
  const fields = buffer.subarray(0, end).toString("latin1").split(" ");
  if (fields[1] === "UNKNOWN") return { kind: "header", header: { version: 1, command: "local" }, length };
  if (fields.length !== 6) throw invalid("version 1 line needs PROXY, a family, two addresses and two ports");
  const [, family, src, dst, sport, dport] = fields as [string, string, string, string, string, string];
  const valid = family === "TCP4" ? isIPv4 : family === "TCP6" ? isIPv6 : undefined;
  if (!valid) throw invalid(`unknown version 1 family ${JSON.stringify(family.slice(0, 16))}`);
  if (!valid(src) || !valid(dst)) throw invalid(`version 1 addresses are not ${family} addresses`);
  return {
    kind: "header",
    header: {
      version: 1,
      command: "proxy",
      source: { address: src, port: v1Port(sport) },
      destination: { address: dst, port: v1Port(dport) },
    },
    length,
  };
}

function v1Port(text: string): number {
  if (!/^(0|[1-9]\d{0,4})$/.test(text) || Number(text) > 65535) throw invalid("version 1 port out of range");
  return Number(text);
}

function parseV2(buffer: Buffer): ParseResult {
  if (buffer.length < 16) return { kind: "incomplete" };
  const versionCommand = buffer[12]!;
  if (versionCommand >> 4 !== 2) throw invalid(`version ${versionCommand >> 4} in a version 2 signature`);
  const command = versionCommand & 0x0f;
  if (command > 1) throw invalid(`unknown version 2 command ${command}`);
  const payload = buffer.readUInt16BE(14);
  if (payload > v2MaxPayloadBytes) throw invalid(`version 2 header of ${payload} bytes is too long`);
  const length = 16 + payload;
  if (buffer.length < length) return { kind: "incomplete" };
  if (command === 0) return { kind: "header", header: { version: 2, command: "local" }, length };
  const family = buffer[13]! >> 4;
  const transport = buffer[13]! & 0x0f;
  if (family === 0 || family === 3)
    return { kind: "header", header: { version: 2, command: "local" }, length };
  if (family > 3) throw invalid(`unknown version 2 address family ${family}`);
  if (transport !== 1) throw invalid("version 2 transport is not a stream (TCP)");
  const body = buffer.subarray(16, length);
  const size = family === 1 ? 4 : 16;
  if (body.length < 2 * size + 4) throw invalid("version 2 address block too short");
  const address = (bytes: Buffer) =>
    size === 4 ? [...bytes].join(".") : (bytes.toString("hex").match(/.{4}/g) ?? []).join(":");
  return {
    kind: "header",
    header: {
      version: 2,
      command: "proxy",
      source: { address: canonical(address(body.subarray(0, size))), port: body.readUInt16BE(2 * size) },
      destination: {
        address: canonical(address(body.subarray(size, 2 * size))),
        port: body.readUInt16BE(2 * size + 2),
      },
    },
    length,
  };
}

/** `0000:…:0001` → `::1`, and IPv4-mapped IPv6 → the IPv4 address, as Node names socket peers. */
function canonical(address: string): string {
  if (isIPv4(address)) return address;
  const url = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(url);
  if (!mapped) return url;
  const [hi, lo] = [Number.parseInt(mapped[1]!, 16), Number.parseInt(mapped[2]!, 16)];
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/**
 * Reads the PROXY header from a freshly accepted socket, without consuming a byte past it: what
 * follows is handed back to the stream (`unshift`) for the protocol. Rejects with `INVALID_ARGUMENT`
 * on a malformed header, a connection closed first, or no header within `timeoutMs`.
 */
export function readProxyHeader(
  socket: Socket,
  options: { readonly versions: readonly ProxyVersion[]; readonly timeoutMs: number },
): Promise<ProxyHeader> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const timer = setTimeout(
      () => finish(invalid(`no header within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    const finish = (error: Error | undefined, header?: ProxyHeader, rest?: Buffer) => {
      clearTimeout(timer);
      socket.removeListener("readable", onReadable);
      socket.removeListener("end", onClosed);
      socket.removeListener("close", onClosed);
      if (error) return reject(error);
      if (rest && rest.length > 0) socket.unshift(rest);
      resolve(header!);
    };
    const onClosed = () => finish(invalid("connection closed before the header ended"));
    function onReadable() {
      for (
        let chunk = socket.read() as Buffer | null;
        chunk !== null;
        chunk = socket.read() as Buffer | null
      ) {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        let result: ParseResult;
        try {
          result = parseProxyHeader(buffered, options.versions);
        } catch (error) {
          return finish(error as Error);
        }
        if (result.kind === "header")
          return finish(undefined, result.header, buffered.subarray(result.length));
      }
    }
    socket.on("readable", onReadable);
    socket.once("end", onClosed);
    socket.once("close", onClosed);
  });
}

export interface ProxyProtocolOptions {
  /** Versions accepted; empty: the PROXY protocol is off. */
  readonly versions: readonly ProxyVersion[];
  /** CIDRs (`10.0.0.0/8`, `::1/128`) of the balancers whose headers are believed. */
  readonly trusted: readonly string[];
  readonly timeoutMs: number;
}

/**
 * Where the PROXY protocol is on, `accept` makes a fresh socket name the client: from a trusted
 * address it reads the header (required) and sets the socket's `remoteAddress`/`remotePort` (and local
 * ones) to what it names, so every later check, lockout and log line sees the client. From any other
 * address nothing is read; with `refuseUntrustedHeader`, a connection whose first bytes are a PROXY
 * header is closed (for protocols where the server speaks first, so no wait is added).
 */
export function createProxyProtocol(options: ProxyProtocolOptions) {
  const trusted = new BlockList();
  for (const cidr of options.trusted) {
    const [network, bits] = cidr.split("/") as [string, string | undefined];
    const family = isIPv4(network) ? "ipv4" : "ipv6";
    trusted.addSubnet(network, bits === undefined ? (family === "ipv4" ? 32 : 128) : Number(bits), family);
  }
  const isTrusted = (address: string | undefined) => {
    if (!address) return false;
    const plain = address.startsWith("::ffff:") && isIPv4(address.slice(7)) ? address.slice(7) : address;
    return trusted.check(plain, isIPv4(plain) ? "ipv4" : "ipv6");
  };

  async function accept(
    socket: Socket,
    onRefused: (reason: string) => void,
    refuseUntrustedHeader = false,
  ): Promise<boolean> {
    if (options.versions.length === 0) return true;
    // The owner adds its own listener; until then a reset must not be an unheard 'error'.
    socket.on("error", () => {});
    if (!isTrusted(socket.remoteAddress)) {
      if (refuseUntrustedHeader)
        socket.prependOnceListener("data", (chunk: Buffer) => {
          if (startsLike(chunk, v1Prefix) || startsLike(chunk, v2Signature)) {
            onRefused("a PROXY header from an address not in PROXY_PROTOCOL_TRUSTED");
            socket.destroy();
          }
        });
      return true;
    }
    try {
      const header = await readProxyHeader(socket, options);
      if (header.command === "proxy") setAddresses(socket, header.source, header.destination);
      return !socket.destroyed;
    } catch (error) {
      onRefused((error as Error).message);
      socket.destroy();
      return false;
    }
  }

  return { accept, isTrusted };
}

export type ProxyProtocol = ReturnType<typeof createProxyProtocol>;

function setAddresses(socket: Socket, source: Endpoint, destination: Endpoint) {
  const family = isIPv4(source.address) ? "IPv4" : "IPv6";
  Object.defineProperties(socket, {
    remoteAddress: { value: source.address, configurable: true },
    remotePort: { value: source.port, configurable: true },
    remoteFamily: { value: family, configurable: true },
    localAddress: { value: destination.address, configurable: true },
    localPort: { value: destination.port, configurable: true },
  });
}

/** A TLS socket over `raw` names the addresses `raw` was given by its PROXY header (if any). */
export function inheritAddresses(secure: Socket, raw: Socket): void {
  for (const name of ["remoteAddress", "remotePort", "remoteFamily", "localAddress", "localPort"] as const) {
    const own = Object.getOwnPropertyDescriptor(raw, name);
    if (own) Object.defineProperty(secure, name, own);
  }
}
