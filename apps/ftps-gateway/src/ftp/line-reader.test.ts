import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { attachLineReader, type LineEvent } from "./line-reader.ts";

function feed(chunks: Array<string | Buffer>, maxBytes = 32): LineEvent[] {
  const stream = new PassThrough();
  const events: LineEvent[] = [];
  attachLineReader(stream, maxBytes, (event) => events.push(event));
  for (const chunk of chunks) stream.emit("data", Buffer.from(chunk));
  return events;
}

describe("attachLineReader", () => {
  it("splits CRLF and bare LF lines across chunks", () => {
    expect(feed(["US", "ER u\r\nPASS", " p\nNOOP\r\n"])).toEqual([
      { kind: "line", text: "USER u" },
      { kind: "line", text: "PASS p" },
      { kind: "line", text: "NOOP" },
    ]);
  });

  it("reports an overlong line once and reads the next one", () => {
    expect(feed(["x".repeat(20), "y".repeat(20), "z".repeat(20), "\r\nNOOP\r\n"])).toEqual([
      { kind: "too-long" },
      { kind: "line", text: "NOOP" },
    ]);
  });

  it("refuses NUL, a bare CR inside a line and invalid UTF-8", () => {
    expect(
      feed(["MKD a\u0000b\r\n", "MKD a\rDELE b\r\n", Buffer.from([0x4d, 0xc3, 0x28, 0x0d, 0x0a])]),
    ).toEqual([
      { kind: "invalid", reason: "control" },
      { kind: "invalid", reason: "control" },
      { kind: "invalid", reason: "encoding" },
    ]);
  });

  it("drops Telnet IP/DM before ABOR and decodes UTF-8 names", () => {
    expect(feed([Buffer.from([0xff, 0xf4, 0xff, 0xf2]), "ABOR\r\n", "MKD £ 😀\r\n"], 64)).toEqual([
      { kind: "line", text: "ABOR" },
      { kind: "line", text: "MKD £ 😀" },
    ]);
  });
});
