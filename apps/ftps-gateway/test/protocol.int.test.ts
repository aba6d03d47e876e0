import { readFile } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";
import type { TLSSocket } from "node:tls";
import { createMemoryDriver } from "@wharf/storage-driver";
import { freePort } from "@wharf/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, startGateway } from "./harness.ts";
import { RawFtp, readAllData } from "./raw-client.ts";

let gateway: Gateway;
let ca: string;

beforeAll(async () => {
  gateway = await startGateway({
    driver: createMemoryDriver(),
    env: { FTP_MAX_LINE_BYTES: "512" },
  });
  ca = await readFile(gateway.caFile, "utf8");
});
afterAll(async () => {
  await gateway?.[Symbol.asyncDispose]();
});

const open = (implicit = false) =>
  RawFtp.connect(implicit ? gateway.implicitPort : gateway.port, { ca, implicit });

describe("control connection", () => {
  it("greets with 220 and answers FEAT with AUTH TLS, EPSV, MLSD and REST STREAM", async () => {
    await using ftp = await open();
    expect((await ftp.read()).code).toBe(220);
    const feat = await ftp.send("FEAT");
    expect(feat.code).toBe(211);
    for (const feature of [" AUTH TLS", " EPSV", " MLSD", " REST STREAM", " UTF8", " SIZE", " MDTM"])
      expect(feat.lines).toContain(feature);
  });

  it("refuses USER before AUTH TLS with 530 when TLS is required, and keeps the session", async () => {
    await using ftp = await open();
    await ftp.read();
    expect((await ftp.send("USER u")).code).toBe(530);
    expect((await ftp.send("NOOP")).code).toBe(200);
  });

  it("closes a control connection with 421 once FTP_IDLE_TIMEOUT_SECONDS pass after its last command", async () => {
    await using idle = await startGateway({
      driver: createMemoryDriver(),
      env: { FTP_IDLE_TIMEOUT_SECONDS: "1" },
    });
    await using ftp = await RawFtp.connect(idle.port, { ca });
    await ftp.read();
    // Each command restarts the timeout: commands 0.4 s apart keep the session well past 1 s.
    for (let i = 0; i < 4; i++) {
      await delay(400);
      expect((await ftp.send("NOOP")).code).toBe(200);
    }
    expect(await ftp.read()).toMatchObject({ code: 421, text: expect.stringMatching(/Idle timeout/) });
    await ftp.waitClosed();
  });

  it("negotiates OpenSSL's hybrid post-quantum key exchange by default, and FTP_TLS_GROUPS's first choice when set", async () => {
    const group = async (port: number) => {
      await using ftp = await RawFtp.connect(port, { ca });
      await ftp.read();
      await ftp.authTls();
      return (ftp.socket as TLSSocket).getEphemeralKeyInfo();
    };
    expect(await group(gateway.port)).toMatchObject({ name: "X25519MLKEM768" });
    await using classic = await startGateway({
      driver: createMemoryDriver(),
      env: { FTP_TLS_GROUPS: "X25519:P-256" },
    });
    expect(await group(classic.port)).toMatchObject({ type: "ECDH", name: "X25519" });
  });

  it("answers 530 to file commands before login and keeps the connection", async () => {
    await using ftp = await open();
    await ftp.read();
    await ftp.authTls();
    for (const command of ["PWD", "LIST", "RETR x", "STOR x", "CWD /", "MKD x", "PASV", "EPSV", "SIZE x"])
      expect((await ftp.send(command)).code, command).toBe(530);
    expect((await ftp.send("PASS p")).code).toBe(503);
  });

  it("accepts lowercase verbs", async () => {
    await using ftp = await open();
    await ftp.read();
    await ftp.authTls();
    expect((await ftp.send("user u")).code).toBe(331);
    expect((await ftp.send("pass p")).code).toBe(230);
    expect((await ftp.send("pwd")).text).toBe('257 "/" is the current directory.');
  });

  it("replies 502 to unknown verbs and 501 to missing arguments without disconnecting", async () => {
    await using ftp = await open(true);
    await ftp.read();
    await ftp.login();
    expect((await ftp.send("XYZZY")).code).toBe(502);
    expect((await ftp.send("RETR")).code).toBe(501);
    expect((await ftp.send("TYPE Q")).code).toBe(504);
    expect((await ftp.send("MODE B")).code).toBe(504);
    expect((await ftp.send("STRU R")).code).toBe(504);
    expect((await ftp.send("REST abc")).code).toBe(501);
    expect((await ftp.send("RNTO x")).code).toBe(503);
    expect((await ftp.send("NOOP")).code).toBe(200);
  });

  it("refuses an overlong command line with 500 and reads the next command", async () => {
    await using ftp = await open();
    await ftp.read();
    expect((await ftp.send(`NOOP ${"x".repeat(2000)}`)).code).toBe(500);
    expect((await ftp.send("NOOP")).code).toBe(200);
  });

  it("refuses NUL and bare CR inside a command (CR/LF injection) with 501", async () => {
    await using ftp = await open(true);
    await ftp.read();
    await ftp.login();
    ftp.write("MKD a\u0000b\r\n");
    expect((await ftp.read()).code).toBe(501);
    ftp.write("MKD a\rDELE b\r\n");
    expect((await ftp.read()).code).toBe(501);
    expect((await ftp.send("MKD a\u0007b")).code).toBe(553);
    const list = await ftp.send("STAT /");
    expect(list.code).toBe(213);
    expect(list.lines.length).toBe(2);
  });

  it("keeps every path inside the user's root: .. and absolute paths stop at /", async () => {
    await using ftp = await open(true);
    await ftp.read();
    await ftp.login();
    expect((await ftp.send("MKD sub")).code).toBe(257);
    expect((await ftp.send("CWD sub/../../../..")).code).toBe(250);
    expect((await ftp.send("PWD")).text).toBe('257 "/" is the current directory.');
    expect((await ftp.send("CWD /../../etc")).code).toBe(550);
    expect((await ftp.send("CWD ../sub")).code).toBe(250);
    expect((await ftp.send("PWD")).text).toBe('257 "/sub" is the current directory.');
    expect((await ftp.send("CDUP")).code).toBe(250);
    expect((await ftp.send("RMD sub")).code).toBe(250);
  });

  it("quotes double quotes in PWD and MKD replies", async () => {
    await using ftp = await open(true);
    await ftp.read();
    await ftp.login();
    expect((await ftp.send('MKD say "hi" 😀')).text).toBe('257 "/say ""hi"" 😀" created.');
    expect((await ftp.send('CWD say "hi" 😀')).code).toBe(250);
    expect((await ftp.send("PWD")).text).toBe('257 "/say ""hi"" 😀" is the current directory.');
    expect((await ftp.send("CDUP")).code).toBe(250);
    expect((await ftp.send('RMD say "hi" 😀')).code).toBe(250);
  });

  it("answers 550 for missing files and directories and keeps the session", async () => {
    await using ftp = await open(true);
    await ftp.read();
    await ftp.login();
    for (const command of [
      "CWD nope",
      "DELE nope",
      "RMD nope",
      "SIZE nope",
      "MDTM nope",
      "RNFR nope",
      "MLST nope",
    ])
      expect((await ftp.send(command)).code, command).toBe(550);
    expect((await ftp.send("MKD a/b")).code).toBe(550);
    expect((await ftp.send("RETR nope")).code).toBe(550);
    expect((await ftp.send("NOOP")).code).toBe(200);
  });

  it("refuses writes for a read-only user with 550", async () => {
    await using ftp = await open(true);
    await ftp.read();
    await ftp.login("ro", "ro");
    for (const command of ["MKD x", "STOR x", "APPE x", "DELE x", "RNFR x"])
      expect((await ftp.send(command)).code, command).toBe(550);
  });
});

describe("data connections", () => {
  it("lists, stores and retrieves over EPSV with PROT P and resumes TLS sessions", async () => {
    await using ftp = await open(true);
    await ftp.read();
    await ftp.login();
    let port = await ftp.epsvPort();
    ftp.write("STOR hello.txt\r\n");
    let data = await ftp.openData(port);
    expect((await ftp.read()).code).toBe(150);
    data.end("hello world");
    expect((await ftp.read()).code).toBe(226);
    port = await ftp.epsvPort();
    ftp.write("REST 6\r\n");
    expect((await ftp.read()).code).toBe(350);
    ftp.write("RETR hello.txt\r\n");
    data = await ftp.openData(port);
    expect("isSessionReused" in data && data.isSessionReused()).toBe(true);
    expect((await ftp.read()).code).toBe(150);
    expect((await readAllData(data)).toString()).toBe("world");
    expect((await ftp.read()).code).toBe(226);
    expect((await ftp.send("SIZE hello.txt")).text).toBe("213 11");
    expect((await ftp.send("MDTM hello.txt")).text).toMatch(/^213 \d{14}$/);
  });

  it("refuses a transfer without PASV/EPSV (425) and with PROT C when TLS is required (534/521)", async () => {
    await using ftp = await open(true);
    await ftp.read();
    await ftp.login();
    expect((await ftp.send("LIST")).code).toBe(425);
    expect((await ftp.send("PROT C")).code).toBe(534);
  });

  it("drops a data connection that comes from another address than the control connection", async () => {
    await using ftp = await open(true);
    await ftp.read();
    await ftp.login();
    const port = await ftp.epsvPort();
    const foreign = await ftp.openData(port, { plain: true, localAddress: "127.0.0.2" });
    await new Promise((resolve) => foreign.once("close", resolve));
    ftp.write("LIST\r\n");
    const data = await ftp.openData(port);
    expect((await ftp.read()).code).toBe(150);
    await readAllData(data);
    expect((await ftp.read()).code).toBe(226);
    const metrics = await (await fetch(`${gateway.healthUrl}/metrics`)).text();
    expect(metrics).toMatch(/ftps_gateway_foreign_data_connections_total [1-9]/);
  });

  it("refuses PORT and EPRT to a third party's address, accepts the client's own", async () => {
    await using ftp = await open(true);
    await ftp.read();
    await ftp.login();
    expect((await ftp.send("PORT 10,0,0,9,200,10")).code).toBe(501);
    expect((await ftp.send("EPRT |1|192.0.2.1|50000|")).code).toBe(501);
    expect((await ftp.send("PORT 127,0,0,1,0,80")).code).toBe(501);
    expect((await ftp.send("PORT 127,0,0,1,200,10")).code).toBe(200);
    expect((await ftp.send("EPRT |1|127.0.0.1|50000|")).code).toBe(200);
  });

  it("answers ABOR during a download with 426 then 226, and the session goes on", async () => {
    await using ftp = await open(true);
    await ftp.read();
    await ftp.login();
    let port = await ftp.epsvPort();
    ftp.write("STOR big.bin\r\n");
    let data = await ftp.openData(port);
    await ftp.read();
    data.end(Buffer.alloc(8 * 1024 * 1024, 7));
    expect((await ftp.read()).code).toBe(226);
    port = await ftp.epsvPort();
    ftp.write("RETR big.bin\r\n");
    data = await ftp.openData(port);
    expect((await ftp.read()).code).toBe(150);
    data.pause();
    ftp.write("ABOR\r\n");
    expect((await ftp.read()).code).toBe(426);
    expect((await ftp.read()).code).toBe(226);
    expect((await ftp.send("NOOP")).code).toBe(200);
  });
});

describe("login throttling", () => {
  it("locks an address out with 421 after repeated wrong passwords, even for the right one", async () => {
    await using own = await startGateway({
      driver: createMemoryDriver(),
      env: { FTP_LOGIN_MAX_FAILURES: "3" },
    });
    await using ftp = await RawFtp.connect(own.implicitPort, { ca, implicit: true });
    await ftp.read();
    await ftp.send("USER u");
    expect((await ftp.send("PASS wrong")).code).toBe(530);
    await ftp.send("USER nobody");
    expect((await ftp.send("PASS wrong")).code).toBe(530);
    await ftp.send("USER u");
    expect((await ftp.send("PASS wrong")).code).toBe(530);
    await ftp.send("USER u");
    expect((await ftp.send("PASS p")).code).toBe(421);
    await ftp.waitClosed();
  });
});

describe("passive port range", () => {
  // Regression: with every port of the range holding a transfer, PASV and EPSV answered 451 "Storage
  // unavailable", which sent the cluster bench's investigation to the store.
  it("answers PASV and EPSV with 425 while every port of the range is taken, and serves once one is free", async () => {
    await using small = await startGateway({
      driver: createMemoryDriver(),
      env: { FTP_DATA_PORTS_FIRST: String(await freePort()), FTP_DATA_PORTS_COUNT: "1" },
    });
    const caPem = await readFile(small.caFile, "utf8");
    await using first = await RawFtp.connect(small.implicitPort, { ca: caPem, implicit: true });
    await using second = await RawFtp.connect(small.implicitPort, { ca: caPem, implicit: true });
    for (const ftp of [first, second]) {
      await ftp.read();
      await ftp.login();
    }
    const taken = await first.epsvPort();
    expect((await second.send("EPSV")).code).toBe(425);
    expect((await second.send("PASV")).code).toBe(425);
    expect(small.log.some((l) => l.level === "warn" && /no free passive port/.test(String(l.msg)))).toBe(
      true,
    );
    first.write("LIST\r\n");
    const data = await first.openData(taken);
    expect((await first.read()).code).toBe(150);
    await readAllData(data);
    expect((await first.read()).code).toBe(226);
    expect(await second.epsvPort()).toBe(taken);
  });
});
