import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fdsOn } from "../../../test/fixtures/open-fds.ts";
import { FileBody } from "./read.ts";

const dir = mkdtempSync(join(tmpdir(), "fs-read-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const data = randomBytes(2 * 1024 * 1024 + 1234);
const path = join(dir, "file");
writeFileSync(path, data);
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("FileBody", () => {
  it("streams a byte range and closes the file at its end", async () => {
    const body = new FileBody(await open(path), 1000, 1_500_000);
    expect(fdsOn(path)).toBe(1);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(data.subarray(1000, 1_500_000))).toBe(true);
    await settle();
    expect(fdsOn(path)).toBe(0);
  });

  it("fills the caller's buffers, fewer bytes only at the end of the range", async () => {
    const body = new FileBody(await open(path), 0, data.length);
    const target = Buffer.alloc(1024 * 1024);
    const parts: Buffer[] = [];
    for (;;) {
      const n = await body.fill(target, 0);
      parts.push(Buffer.from(target.subarray(0, n)));
      if (n < target.length) break;
    }
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    expect(await body.fill(target, 0)).toBe(0);
    body.destroy();
  });

  it("ends with an AbortError when its signal aborts, and closes the file", async () => {
    const controller = new AbortController();
    const body = new FileBody(await open(path), 0, data.length, controller.signal);
    const reading = (async () => {
      for await (const _ of body) controller.abort();
    })();
    await expect(reading).rejects.toMatchObject({ name: "AbortError" });
    await settle();
    expect(fdsOn(path)).toBe(0);
  });
});
