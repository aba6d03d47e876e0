import { connect, type Socket } from "node:net";
import { type TLSSocket, connect as tlsConnect } from "node:tls";

export interface Reply {
  readonly code: number;
  readonly lines: string[];
  readonly text: string;
}

/**
 * A bare FTP control connection for protocol tests: send exact bytes, read exact replies
 * (multi-line aware), upgrade with AUTH TLS, open passive data connections.
 */
export class RawFtp implements AsyncDisposable {
  socket: Socket | TLSSocket;
  /** The TCP connection under `socket` (for a reset: `tcp.resetAndDestroy()`). */
  readonly tcp: Socket;
  readonly ca: string;
  #buffer = "";
  #waiters: Array<() => void> = [];
  #closed = false;
  #tlsSession: Buffer | undefined;

  private constructor(socket: Socket | TLSSocket, tcp: Socket, ca: string) {
    this.socket = socket;
    this.tcp = tcp;
    this.ca = ca;
    this.#attach(socket);
  }

  static async connect(port: number, options: { ca: string; implicit?: boolean }): Promise<RawFtp> {
    const tcp = connect({ port, host: "127.0.0.1" });
    const socket = options.implicit
      ? tlsConnect({ socket: tcp, ca: options.ca, servername: "localhost" })
      : tcp;
    let session: Buffer | undefined;
    socket.on("session", (s: Buffer) => {
      session = s;
    });
    await new Promise<void>((resolve, reject) => {
      socket.once(options.implicit ? "secureConnect" : "connect", () => resolve());
      socket.once("error", reject);
    });
    const ftp = new RawFtp(socket, tcp, options.ca);
    ftp.#tlsSession ??= session;
    return ftp;
  }

  #attach(socket: Socket | TLSSocket) {
    socket.on("session", (session: Buffer) => {
      this.#tlsSession = session;
    });
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.#buffer += chunk;
      this.#wake();
    });
    socket.on("close", () => {
      this.#closed = true;
      this.#wake();
    });
    socket.on("error", () => {});
  }

  #wake() {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The next complete reply; rejects when the connection closes first. */
  async read(): Promise<Reply> {
    for (;;) {
      const reply = this.#parse();
      if (reply) return reply;
      if (this.#closed) throw new Error(`connection closed; unread: ${JSON.stringify(this.#buffer)}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #parse(): Reply | undefined {
    const lines: string[] = [];
    let offset = 0;
    for (;;) {
      const end = this.#buffer.indexOf("\r\n", offset);
      if (end === -1) return undefined;
      const line = this.#buffer.slice(offset, end);
      offset = end + 2;
      lines.push(line);
      const first = lines[0]!;
      const multi = first[3] === "-";
      if (!multi || (line.startsWith(first.slice(0, 3)) && line[3] === " ")) {
        this.#buffer = this.#buffer.slice(offset);
        return { code: Number(first.slice(0, 3)), lines, text: lines.join("\n") };
      }
    }
  }

  /** Resolves when the server closes the connection. */
  async waitClosed(): Promise<void> {
    while (!this.#closed) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  async send(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.read();
  }

  async authTls(): Promise<void> {
    const reply = await this.send("AUTH TLS");
    if (reply.code !== 234) throw new Error(reply.text);
    this.socket.removeAllListeners("data");
    const secure = tlsConnect({ socket: this.socket as Socket, ca: this.ca, servername: "localhost" });
    secure.on("session", (session: Buffer) => {
      this.#tlsSession = session;
    });
    await new Promise<void>((resolve, reject) => {
      secure.once("secureConnect", () => resolve());
      secure.once("error", reject);
    });
    this.socket = secure;
    this.#attach(secure);
  }

  /** AUTH TLS (unless implicit), USER, PASS, PBSZ 0, PROT P. */
  async login(user = "u", password = "p"): Promise<void> {
    if (!("encrypted" in this.socket)) await this.authTls();
    await this.send(`USER ${user}`);
    const reply = await this.send(`PASS ${password}`);
    if (reply.code !== 230) throw new Error(reply.text);
    await this.send("PBSZ 0");
    await this.send("PROT P");
  }

  /** EPSV, then connect (TLS unless `plain`) and collect or send data. */
  async epsvPort(): Promise<number> {
    const reply = await this.send("EPSV");
    if (reply.code !== 229) throw new Error(reply.text);
    return Number(/\|\|\|(\d+)\|/.exec(reply.text)![1]);
  }

  async openData(
    port: number,
    options: { plain?: boolean; localAddress?: string } = {},
  ): Promise<Socket | TLSSocket> {
    const raw = connect({ port, host: "127.0.0.1", localAddress: options.localAddress });
    await new Promise<void>((resolve, reject) => {
      raw.once("connect", () => resolve());
      raw.once("error", reject);
    });
    if (options.plain) return raw;
    const secure: TLSSocket = tlsConnect({
      socket: raw,
      ca: this.ca,
      servername: "localhost",
      session: this.#tlsSession,
    });
    await new Promise<void>((resolve, reject) => {
      secure.once("secureConnect", () => resolve());
      secure.once("error", reject);
    });
    tcpSockets.set(secure, raw);
    return secure;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.socket.destroy();
  }
}

const tcpSockets = new WeakMap<Socket, Socket>();

/** The TCP connection under a data socket from `openData` (itself when plain). */
export function tcpOf(socket: Socket | TLSSocket): Socket {
  return tcpSockets.get(socket) ?? socket;
}

/** Reads a data socket to its end. */
export async function readAllData(socket: Socket | TLSSocket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
