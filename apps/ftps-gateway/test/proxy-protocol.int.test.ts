/**
 * The PROXY protocol at the gateway's own listeners (PROXY_PROTOCOL=any, the balancer on 127.0.0.1):
 * SFTP and implicit FTPS behind a header name the client it carries; a trusted address without a
 * header and a header from an untrusted address are refused. Through HAProxy itself (control and data
 * connections, lockout): infra/cluster/replicas.int.test.ts.
 */
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import ssh2 from "ssh2";
import { describe, expect, it } from "vitest";
import { startSftpGateway } from "./sftp-clients.ts";

const v2Header = (source: string, port: number) => {
  const header = Buffer.alloc(28);
  Buffer.from("0d0a0d0a000d0a515549540a", "hex").copy(header, 0);
  header.set([0x21, 0x11, 0, 12], 12);
  header.set(source.split(".").map(Number), 16);
  header.set([127, 0, 0, 1], 20);
  header.writeUInt16BE(port, 24);
  header.writeUInt16BE(21, 26);
  return header;
};

/** A TCP connection from `localAddress` that has sent `first`. */
async function socketFrom(port: number, localAddress: string, first?: Buffer | string): Promise<Socket> {
  const socket = connect({ host: "127.0.0.1", port, localAddress });
  socket.on("error", () => {});
  await once(socket, "connect");
  if (first) socket.write(first);
  return socket;
}

const closed = (socket: Socket) =>
  new Promise<string>((resolve) => {
    let text = "";
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString();
    });
    socket.once("close", () => resolve(text));
  });

describe("PROXY protocol at the gateway's listeners", () => {
  const env = { PROXY_PROTOCOL: "any", PROXY_PROTOCOL_TRUSTED: "127.0.0.1" };

  it("logs in over SFTP behind a v1 header and names the client it carries", async () => {
    await using fixture = await startSftpGateway(env);
    const { gateway } = fixture;
    const socket = await socketFrom(
      gateway.sftpPort!,
      "127.0.0.1",
      `PROXY TCP4 192.0.2.7 127.0.0.1 50000 ${gateway.sftpPort}\r\n`,
    );
    const client = new ssh2.Client();
    await new Promise<void>((resolve, reject) => {
      client.once("error", reject).once("ready", () => resolve());
      client.connect({ sock: socket, username: "u", password: "p" });
    });
    client.end();
    const login = gateway.log.find((l) => l.msg === "logged in" && l.protocol === "sftp");
    expect(login?.peer).toBe("192.0.2.7");
  });

  it("serves implicit FTPS behind a v2 header, naming its client", async () => {
    await using fixture = await startSftpGateway(env);
    const { gateway } = fixture;
    const raw = await socketFrom(gateway.implicitPort, "127.0.0.1", v2Header("198.51.100.9", 40000));
    const secure = tlsConnect({ socket: raw, rejectUnauthorized: false });
    secure.on("error", () => {});
    const [greeting] = (await once(secure, "data")) as [Buffer];
    expect(greeting.toString()).toMatch(/^220 /);
    secure.write("QUIT\r\n");
    await once(secure, "close");
    const opened = gateway.log.find((l) => l.msg === "session opened" && l.secure === true);
    expect(opened?.peer).toBe("198.51.100.9");
  });

  it("refuses a trusted address without a header, and a header from an untrusted address", async () => {
    await using fixture = await startSftpGateway(env);
    const { gateway } = fixture;
    // The balancer's address, but no header: closed without a greeting.
    const bare = await socketFrom(gateway.port, "127.0.0.1", "USER u\r\n");
    expect(await closed(bare)).toBe("");
    // Another address that claims to relay a client: greeted (it is a client), then closed at the header.
    const spoofing = await socketFrom(gateway.port, "127.0.0.2");
    const text = closed(spoofing);
    spoofing.write("PROXY TCP4 192.0.2.99 127.0.0.1 1 2\r\nUSER u\r\n");
    expect(await text).not.toMatch(/^331 /m);
    const sshSpoof = await socketFrom(gateway.sftpPort!, "127.0.0.2", v2Header("192.0.2.99", 1));
    await closed(sshSpoof);
    const refusals = gateway.log.filter((l) => l.msg === "refused a connection");
    expect(refusals.map((l) => l.address)).toEqual(["127.0.0.1", "127.0.0.2", "127.0.0.2"]);
    expect(gateway.log.some((l) => l.peer === "192.0.2.99")).toBe(false);
  });
});
