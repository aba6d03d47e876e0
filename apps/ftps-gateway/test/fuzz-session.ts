import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { commands } from "../src/ftp/commands.ts";
import { RawFtp, type Reply } from "./raw-client.ts";

/** How a transfer is cut short, and when. */
export interface Cut {
  /** `after-pasv`: the data connection is open, no transfer command sent yet. */
  readonly at: "after-pasv" | "after-150" | "mid-data" | "after-data";
  readonly how: "ABOR" | "QUIT" | "fin-data" | "rst-data" | "fin-control" | "rst-control";
}

export type Step =
  | { readonly kind: "line"; readonly text: string }
  | {
      readonly kind: "transfer";
      readonly verb: "RETR" | "STOR" | "APPE" | "LIST" | "NLST" | "MLSD";
      readonly path: string;
      readonly rest: number | undefined;
      readonly passive: "EPSV" | "PASV";
      readonly cut: Cut | undefined;
    };

/** One control connection: an optional login, then steps until one ends the session. */
export interface Script {
  readonly login: "good" | "bad" | "none";
  readonly steps: readonly Step[];
}

const replyTimeoutMs = 10_000;
/** The gateway's FTP_MAX_LINE_BYTES in the fuzz surface. */
export const maxLineBytes = 2048;

/** A reply as RFC 959 wants it: `ddd text` or `ddd-` … `ddd text`, first digit 1 to 5. */
export function checkReply(reply: Reply, after: string): Reply {
  const first = reply.lines[0] ?? "";
  const last = reply.lines.at(-1) ?? "";
  const code = first.slice(0, 3);
  if (!/^[1-5]\d\d[ -]/.test(first) || !last.startsWith(`${code} `))
    throw new Error(
      `malformed reply to ${JSON.stringify(after).slice(0, 80)}: ${JSON.stringify(reply.text).slice(0, 200)}`,
    );
  return reply;
}

/** Drives one script against the gateway, checking each reply; resolves once the session is over. */
export class SessionDriver {
  readonly #ftp: RawFtp;
  #data: Socket | TLSSocket | undefined;
  #over = false;
  #lastCode = 0;

  private constructor(ftp: RawFtp) {
    this.#ftp = ftp;
  }

  static async run(port: number, script: Script, payload: Buffer): Promise<void> {
    const ftp = await RawFtp.connect(port, { ca: "" });
    const driver = new SessionDriver(ftp);
    try {
      await driver.#expect("(greeting)", [220]);
      if (script.login !== "none") {
        await driver.#send("USER u");
        await driver.#send(script.login === "good" ? "PASS p" : "PASS wrong");
      }
      for (const step of script.steps) {
        if (driver.#over) break;
        if (step.kind === "line") await driver.#send(step.text);
        else await driver.#transfer(step, payload);
      }
    } finally {
      driver.#data?.destroy();
      ftp.socket.destroy();
    }
  }

  /** `promise`, or a failure naming `what` after the reply timeout (a guard, not a wait). */
  async #within<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing in ${replyTimeoutMs} ms`)), replyTimeoutMs);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #read(after: string): Promise<Reply | undefined> {
    try {
      const reply = checkReply(
        await this.#within(this.#ftp.read(), `reply to ${JSON.stringify(after).slice(0, 80)}`),
        after,
      );
      this.#lastCode = reply.code;
      // 451 is the gateway's own failure: the store is up, so no input should cause one
      if (reply.code === 451)
        throw new Error(`451 after ${JSON.stringify(after).slice(0, 80)}: ${reply.text}`);
      if (reply.code === 421 || reply.code === 221) this.#over = true;
      return reply;
    } catch (error) {
      // The server may close after 221, 421 or a TLS upgrade (234) that this client never makes.
      if (this.#ftp.closed && [221, 234, 421].includes(this.#lastCode)) {
        this.#over = true;
        return undefined;
      }
      throw error;
    }
  }

  async #expect(after: string, codes: number[]): Promise<void> {
    const reply = await this.#read(after);
    if (reply && !codes.includes(reply.code))
      throw new Error(`${after}: expected ${codes.join("/")}, got ${reply.text}`);
  }

  /** Sends a line; a 1xx is followed by the final reply once any data connection is done. */
  async #send(text: string): Promise<Reply | undefined> {
    if (this.#ftp.closed) {
      this.#over = true;
      return undefined;
    }
    // Raw bytes go as latin1; text beyond it as UTF-8 (latin1 would cut a character to a byte
    // that may be CR or LF, and split the line)
    const bytes = Buffer.from(`${text}\r\n`, /[^\x00-\xff]/.test(text) ? "utf8" : "latin1");
    this.#ftp.write(bytes);
    const reply = await this.#read(text);
    // Telnet IP/DM before a verb (how clients send ABOR) is stripped by the gateway
    const verb = text
      .replace(/^(\xff[\s\S])+/, "")
      .split(" ")[0]!
      .toUpperCase();
    if (reply && reply.code < 400 && !Object.hasOwn(commands, verb))
      throw new Error(`${JSON.stringify(text).slice(0, 80)} is no command, yet answered ${reply.text}`);
    if (reply && reply.code !== 500 && bytes.length > maxLineBytes)
      throw new Error(
        `a ${text.length}-byte line past the ${maxLineBytes}-byte cap was answered ${reply.text}`,
      );
    if (reply?.code === 234) this.#over = true;
    if (reply && reply.code >= 227 && reply.code <= 229 && reply.code !== 228) await this.#openData(reply);
    if (reply && reply.code < 200 && this.#data) {
      // a transfer started by a bare line: send nothing, read everything, as a careful client does
      const data = this.#data;
      if (!data.destroyed)
        await this.#within(
          new Promise((resolve) => data.on("close", resolve).resume().end()),
          `data of ${text}`,
        );
      return this.#read(text);
    }
    if (reply && reply.code < 200) return this.#read(text);
    return reply;
  }

  async #openData(reply: Reply): Promise<void> {
    this.#data?.destroy();
    this.#data = undefined;
    const epsv = /\|\|\|(\d+)\|/.exec(reply.text);
    const pasv = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(reply.text);
    const port = epsv ? Number(epsv[1]) : pasv ? Number(pasv[5]) * 256 + Number(pasv[6]) : undefined;
    if (port === undefined) throw new Error(`a passive reply without a port: ${reply.text}`);
    this.#data = await this.#ftp.openData(port, { plain: true });
    this.#data.on("error", () => {});
  }

  async #cut(how: Cut["how"], running: boolean): Promise<void> {
    const data = this.#data;
    switch (how) {
      case "ABOR":
        await this.#send("ABOR");
        // During a transfer two replies are due: the transfer's (426, or 226 if it had just
        // ended) and ABOR's (226, or 225 when nothing was left to abort).
        if (running && !this.#over) await this.#read("ABOR");
        return;
      case "QUIT":
        this.#ftp.write("QUIT\r\n");
        while (!this.#over) await this.#read("QUIT");
        return;
      case "fin-data":
        data?.end();
        return;
      case "rst-data":
        (data as Socket | undefined)?.resetAndDestroy();
        return;
      case "fin-control":
        this.#ftp.socket.end();
        this.#over = true;
        return;
      case "rst-control":
        (this.#ftp.socket as Socket).resetAndDestroy();
        this.#over = true;
    }
  }

  async #transfer(step: Extract<Step, { kind: "transfer" }>, payload: Buffer): Promise<void> {
    const cutAt = async (at: Cut["at"]) => {
      if (step.cut?.at !== at) return false;
      await this.#cut(step.cut.how, at !== "after-pasv");
      return true;
    };
    const passive = await this.#send(step.passive);
    if (this.#over || !passive || !this.#data) return;
    if (await cutAt("after-pasv")) return this.#finish(step);
    if (step.rest !== undefined) await this.#send(`REST ${step.rest}`);
    const line = `${step.verb} ${step.path}`;
    this.#ftp.write(`${line}\r\n`);
    const first = await this.#read(line);
    if (!first || first.code >= 200 || this.#over) return;
    const data = this.#data;
    if (await cutAt("after-150")) return this.#finish(step);
    const upload = step.verb === "STOR" || step.verb === "APPE";
    if (upload) {
      data.write(payload.subarray(0, payload.length >> 1));
      if (await cutAt("mid-data")) return this.#finish(step);
      data.end(payload.subarray(payload.length >> 1));
    } else if (step.cut?.at === "mid-data") {
      const chunk = await new Promise<unknown>((resolve) =>
        data.once("data", resolve).once("close", () => resolve(undefined)),
      );
      if (chunk !== undefined && (await cutAt("mid-data"))) return this.#finish(step);
      data.resume();
    } else {
      // read to the end, as a well-behaved client does
      await new Promise<void>((resolve) => data.on("close", () => resolve()).resume());
    }
    if (await cutAt("after-data")) return this.#finish(step);
    await this.#read(line);
  }

  /** After a cut that left the control connection open, the transfer's final reply. */
  async #finish(step: Extract<Step, { kind: "transfer" }>): Promise<void> {
    if (this.#over || step.cut?.how === "ABOR" || step.cut?.how === "QUIT") return;
    this.#data?.resume();
    if (step.cut?.at === "after-pasv") return;
    await this.#read(`${step.verb} after ${step.cut?.how} ${step.cut?.at}`);
  }
}
