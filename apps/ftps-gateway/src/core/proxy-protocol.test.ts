import { connect, createServer, type Server, type Socket } from "node:net";
import { TLSSocket } from "node:tls";
import { isWharfError } from "@wharf/errors";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import {
  createProxyProtocol,
  inheritAddresses,
  parseProxyHeader,
  readProxyHeader,
  v2MaxPayloadBytes,
} from "./proxy-protocol.ts";

const signature = Buffer.from("0d0a0d0a000d0a515549540a", "hex");

/** A v2 header as HAProxy's send-proxy-v2 writes it (plus optional TLVs). */
function v2(options: {
  command?: number;
  family?: number;
  transport?: number;
  addresses?: Buffer;
  tlvs?: Buffer;
}): Buffer {
  const body = Buffer.concat([options.addresses ?? Buffer.alloc(0), options.tlvs ?? Buffer.alloc(0)]);
  const head = Buffer.from([
    0x20 | (options.command ?? 1),
    ((options.family ?? 1) << 4) | (options.transport ?? 1),
    body.length >> 8,
    body.length & 255,
  ]);
  return Buffer.concat([signature, head, body]);
}
const inet = (src: number[], dst: number[], sport: number, dport: number) => {
  const b = Buffer.alloc(12);
  Buffer.from(src).copy(b, 0);
  Buffer.from(dst).copy(b, 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
};

describe("parseProxyHeader", () => {
  it("reads a version 1 TCP4 line and its length", () => {
    const line = Buffer.from("PROXY TCP4 192.0.2.7 198.51.100.1 56324 21\r\nUSER x\r\n");
    expect(parseProxyHeader(line, [1, 2])).toEqual({
      kind: "header",
      length: line.indexOf("USER"),
      header: {
        version: 1,
        command: "proxy",
        source: { address: "192.0.2.7", port: 56324 },
        destination: { address: "198.51.100.1", port: 21 },
      },
    });
  });

  it("reads a version 1 TCP6 line", () => {
    const result = parseProxyHeader(Buffer.from("PROXY TCP6 2001:db8::7 ::1 1 65535\r\n"), [1]);
    expect(result).toMatchObject({
      header: { source: { address: "2001:db8::7", port: 1 }, destination: { address: "::1", port: 65535 } },
    });
  });

  it("takes version 1 UNKNOWN as no address information", () => {
    const line = Buffer.from("PROXY UNKNOWN whatever follows\r\n");
    expect(parseProxyHeader(line, [1])).toEqual({
      kind: "header",
      length: line.length,
      header: { version: 1, command: "local" },
    });
  });

  it("waits for more bytes while a header may still come, at every cut of a valid one", () => {
    const headers = [
      Buffer.from("PROXY TCP4 192.0.2.7 198.51.100.1 56324 21\r\n"),
      v2({ addresses: inet([192, 0, 2, 7], [10, 0, 0, 1], 4000, 21) }),
    ];
    for (const header of headers)
      for (let n = 0; n < header.length; n++)
        expect(parseProxyHeader(header.subarray(0, n), [1, 2])).toEqual({ kind: "incomplete" });
  });

  it("reads a version 2 PROXY header for IPv4, skipping its TLVs", () => {
    const tlvs = Buffer.from([0x01, 0x00, 0x02, 0x68, 0x32, 0x04, 0x00, 0x00]); // ALPN "h2", NOOP
    const header = v2({ addresses: inet([192, 0, 2, 7], [10, 0, 0, 1], 4000, 990), tlvs });
    expect(parseProxyHeader(Buffer.concat([header, Buffer.from("rest")]), [2])).toEqual({
      kind: "header",
      length: header.length,
      header: {
        version: 2,
        command: "proxy",
        source: { address: "192.0.2.7", port: 4000 },
        destination: { address: "10.0.0.1", port: 990 },
      },
    });
  });

  it("reads a version 2 IPv6 header, naming IPv4-mapped addresses as IPv4", () => {
    const addresses = Buffer.alloc(36);
    Buffer.from("20010db8000000000000000000000007", "hex").copy(addresses, 0);
    Buffer.from("00000000000000000000ffffc0000201", "hex").copy(addresses, 16);
    addresses.writeUInt16BE(1234, 32);
    addresses.writeUInt16BE(21, 34);
    expect(parseProxyHeader(v2({ family: 2, addresses }), [2])).toMatchObject({
      header: {
        source: { address: "2001:db8::7", port: 1234 },
        destination: { address: "192.0.2.1", port: 21 },
      },
    });
  });

  it("takes LOCAL, AF_UNSPEC and AF_UNIX as no address information", () => {
    for (const header of [
      v2({ command: 0, family: 0, transport: 0 }),
      v2({ command: 0, addresses: inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2) }),
      v2({ family: 0, transport: 0 }),
      v2({ family: 3, addresses: Buffer.alloc(216) }),
    ])
      expect(parseProxyHeader(header, [2])).toEqual({
        kind: "header",
        length: header.length,
        header: { version: 2, command: "local" },
      });
  });

  it.each([
    ["no header at all", Buffer.from("USER alice\r\n"), [1, 2]],
    [
      "a version the setting excludes (v2 for v1)",
      v2({ addresses: inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2) }),
      [1],
    ],
    ["a version the setting excludes (v1 for v2)", Buffer.from("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), [2]],
    ["a v1 line without CRLF", Buffer.from(`PROXY TCP4 ${"1".repeat(120)}`), [1]],
    ["a v1 line ended by a bare LF", Buffer.from("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), [1]],
    ["a v1 unknown family", Buffer.from("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"), [1]],
    ["a v1 address of the wrong family", Buffer.from("PROXY TCP4 ::1 5.6.7.8 1 2\r\n"), [1]],
    ["a v1 port above 65535", Buffer.from("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"), [1]],
    ["a v1 port with a leading zero", Buffer.from("PROXY TCP4 1.2.3.4 5.6.7.8 021 2\r\n"), [1]],
    ["a v1 line with a field missing", Buffer.from("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), [1]],
    ["a v2 version nibble other than 2", Buffer.concat([signature, Buffer.from([0x31, 0x11, 0, 0])]), [2]],
    ["a v2 command other than LOCAL/PROXY", Buffer.concat([signature, Buffer.from([0x22, 0x11, 0, 0])]), [2]],
    ["a v2 datagram transport", v2({ transport: 2, addresses: inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2) }), [2]],
    ["a v2 unknown family", v2({ family: 4, addresses: Buffer.alloc(12) }), [2]],
    ["a v2 address block too short", v2({ addresses: Buffer.alloc(11) }), [2]],
    ["a v2 IPv6 block too short", v2({ family: 2, addresses: Buffer.alloc(12) }), [2]],
    [
      "a v2 header longer than the bound",
      Buffer.concat([
        signature,
        Buffer.from([0x21, 0x11, (v2MaxPayloadBytes + 1) >> 8, (v2MaxPayloadBytes + 1) & 255]),
      ]),
      [2],
    ],
  ] as const)("refuses %s with INVALID_ARGUMENT", (_, bytes, versions) => {
    let thrown: unknown;
    try {
      parseProxyHeader(bytes, versions);
    } catch (error) {
      thrown = error;
    }
    expect(isWharfError(thrown, "INVALID_ARGUMENT"), String(thrown)).toBe(true);
  });

  it("never throws anything but INVALID_ARGUMENT, and a header's length never passes its input (fuzz)", () => {
    const near = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc
        .tuple(fc.constantFrom(signature, Buffer.from("PROXY ")), fc.uint8Array({ maxLength: 300 }))
        .map(([prefix, tail]) => Buffer.concat([prefix, tail])),
      fc
        .tuple(
          fc.constantFrom("TCP4", "TCP6", "UNKNOWN", "tcp4", ""),
          fc.string({ maxLength: 40 }),
          fc.string({ maxLength: 40 }),
          fc.string({ maxLength: 8 }),
          fc.string({ maxLength: 8 }),
          fc.constantFrom("\r\n", "\n", ""),
        )
        .map((f) => Buffer.from(`PROXY ${f.slice(0, 5).join(" ")}${f[5]}`)),
    );
    fc.assert(
      fc.property(near, fc.subarray([1, 2] as const, { minLength: 1 }), (bytes, versions) => {
        const buffer = Buffer.from(bytes);
        try {
          const result = parseProxyHeader(buffer, versions);
          if (result.kind === "header") expect(result.length).toBeLessThanOrEqual(buffer.length);
        } catch (error) {
          expect(isWharfError(error, "INVALID_ARGUMENT"), String(error)).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

/** A loopback connection as a listener gets it (not read yet), and its client. */
async function connection(): Promise<{ accepted: Socket; client: Socket }> {
  const listener = createServer({ pauseOnConnect: true });
  server = listener;
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const { port } = listener.address() as { port: number };
  const accepted = new Promise<Socket>((resolve) => listener.once("connection", resolve));
  const client = connect({ port, host: "127.0.0.1" });
  client.on("error", () => {});
  return { accepted: await accepted, client };
}

const collect = (socket: Socket) =>
  new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("end", () => resolve(Buffer.concat(chunks)));
    socket.resume(); // accepted paused, as the passive listener accepts
  });

describe("readProxyHeader", () => {
  it("hands back every byte after the header, arriving in the header's own chunk or byte by byte", async () => {
    const header = Buffer.from("PROXY TCP4 192.0.2.7 198.51.100.1 56324 21\r\n");
    const payload = Buffer.from("USER alice\r\nPASS x\r\n");
    for (const oneByOne of [false, true]) {
      const { accepted, client } = await connection();
      const reading = readProxyHeader(accepted, { versions: [1, 2], timeoutMs: 5000 });
      const all = Buffer.concat([header, payload]);
      if (!oneByOne) client.end(all);
      else {
        for (const byte of all) {
          client.write(Buffer.from([byte]));
          await new Promise((r) => setImmediate(r));
        }
        client.end();
      }
      expect(await reading).toMatchObject({ source: { address: "192.0.2.7", port: 56324 } });
      expect((await collect(accepted)).equals(payload)).toBe(true);
    }
  });

  it("hands the bytes after the header to a TLS socket opened over the connection", async () => {
    // HAProxy may send the header and the client's ClientHello in one segment (implicit FTPS).
    const { accepted, client } = await connection();
    const header = v2({ addresses: inet([192, 0, 2, 7], [10, 0, 0, 1], 4000, 990) });
    const hello = Buffer.from("160301", "hex");
    client.write(Buffer.concat([header, hello]));
    await readProxyHeader(accepted, { versions: [2], timeoutMs: 5000 });
    expect(accepted.readableLength).toBe(hello.length);
  });

  it("rejects with INVALID_ARGUMENT when no header comes in time, and when the connection closes first", async () => {
    const silent = await connection();
    await expect(readProxyHeader(silent.accepted, { versions: [1], timeoutMs: 100 })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    silent.client.destroy();
    const closing = await connection();
    const read = readProxyHeader(closing.accepted, { versions: [1, 2], timeoutMs: 5000 });
    closing.client.end("PROXY TCP4 1.2.3.4");
    await expect(read).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("settles for any bytes sent in any chunks then closed: no hang, no crash (fuzz)", async () => {
    const prefix = fc.constantFrom(
      Buffer.alloc(0),
      signature,
      Buffer.from("PROXY "),
      Buffer.from("PROXY TCP4 "),
    );
    await fc.assert(
      fc.asyncProperty(
        prefix,
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { maxLength: 6 }),
        async (start, chunks) => {
          const { accepted, client } = await connection();
          const read = readProxyHeader(accepted, { versions: [1, 2], timeoutMs: 2000 }).then(
            () => "header",
            (error: unknown) => (isWharfError(error, "INVALID_ARGUMENT") ? "refused" : String(error)),
          );
          for (const chunk of [start, ...chunks.map((c) => Buffer.from(c))])
            if (chunk.length) client.write(chunk);
          client.end();
          expect(["header", "refused"]).toContain(await read);
          accepted.destroy();
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("createProxyProtocol", () => {
  const proxy = createProxyProtocol({ versions: [1, 2], trusted: ["127.0.0.1/32"], timeoutMs: 500 });

  it("gives a trusted connection the client's addresses from its header", async () => {
    const { accepted, client } = await connection();
    client.write("PROXY TCP4 192.0.2.7 198.51.100.1 56324 21\r\n");
    expect(await proxy.accept(accepted, () => {})).toBe(true);
    expect([accepted.remoteAddress, accepted.remotePort, accepted.localAddress]).toEqual([
      "192.0.2.7",
      56324,
      "198.51.100.1",
    ]);
    // The addresses carry over to a TLS socket opened over it (implicit FTPS).
    const secure = new TLSSocket(accepted, { isServer: true });
    inheritAddresses(secure, accepted);
    expect(secure.remoteAddress).toBe("192.0.2.7");
    secure.destroy();
    client.destroy();
  });

  it("keeps the connection's own addresses for a LOCAL header", async () => {
    const { accepted, client } = await connection();
    client.write(v2({ command: 0, family: 0, transport: 0 }));
    expect(await proxy.accept(accepted, () => {})).toBe(true);
    expect(accepted.remoteAddress).toBe("127.0.0.1");
    client.destroy();
  });

  it("refuses and closes a trusted connection without a header", async () => {
    const { accepted, client } = await connection();
    client.write("USER alice\r\n");
    const reasons: string[] = [];
    expect(await proxy.accept(accepted, (reason) => reasons.push(reason))).toBe(false);
    expect(accepted.destroyed).toBe(true);
    expect(reasons[0]).toMatch(/PROXY protocol/);
    client.destroy();
  });

  it("reads nothing from an untrusted address, and closes it when it sends a PROXY header", async () => {
    const untrusted = createProxyProtocol({ versions: [1, 2], trusted: ["10.0.0.0/8"], timeoutMs: 500 });
    const plain = await connection();
    expect(await untrusted.accept(plain.accepted, () => {}, true)).toBe(true);
    plain.client.end("USER alice\r\n");
    expect((await collect(plain.accepted)).toString()).toBe("USER alice\r\n");

    const spoofing = await connection();
    const reasons: string[] = [];
    expect(await untrusted.accept(spoofing.accepted, (reason) => reasons.push(reason), true)).toBe(true);
    spoofing.accepted.on("data", () => {}).resume();
    spoofing.client.write("PROXY TCP4 192.0.2.7 198.51.100.1 56324 21\r\n");
    await new Promise((resolve) => spoofing.accepted.once("close", resolve));
    expect(spoofing.accepted.remoteAddress).not.toBe("192.0.2.7");
    expect(reasons).toEqual(["a PROXY header from an address not in PROXY_PROTOCOL_TRUSTED"]);
  });

  it("does nothing when off", async () => {
    const off = createProxyProtocol({ versions: [], trusted: ["127.0.0.1/32"], timeoutMs: 500 });
    const { accepted, client } = await connection();
    expect(await off.accept(accepted, () => {})).toBe(true);
    client.end("PROXY TCP4 192.0.2.7 198.51.100.1 56324 21\r\n");
    expect((await collect(accepted)).toString()).toMatch(/^PROXY TCP4/);
  });
});
