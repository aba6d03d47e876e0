import { spawn } from "node:child_process";
import { compareKeys, createMemoryDriver, type ListPage, type StorageDriver } from "@wharf/storage-driver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, startGateway } from "./harness.ts";

const total = 200_000;
const folder = "big/";
const names = Array.from({ length: total }, (_, i) => `f${String(i).padStart(6, "0")}`).sort(compareKeys);
const modified = new Date("2026-01-02T03:04:05Z");

/**
 * The memory driver with a folder of 200,000 keys served from a sorted array (the memory and fs
 * drivers walk the whole folder for every page, which would make this test about them, not about
 * the gateway). Each page of that folder is handed out only once the FTP client has received the
 * names of all pages but the last three: a gateway that read the whole folder before sending would
 * never get past that gate, so the test proves LIST/MLSD stream page by page with bounded memory.
 */
function bigFolderDriver(received: () => number) {
  const memory = createMemoryDriver();
  const pages: Array<{ limit: number | undefined; size: number }> = [];
  let waiting: Array<() => void> = [];
  const wake = () => {
    const ready = waiting;
    waiting = [];
    for (const resolve of ready) resolve();
  };
  const driver: StorageDriver = {
    ...memory,
    async list(options = {}): Promise<ListPage> {
      if (options.prefix !== folder) return memory.list(options);
      const limit = Math.min(options.limit ?? 1000, 1000);
      const page = pages.filter((p) => p.limit !== 1).length;
      const gate = Date.now() + 20_000;
      while (limit > 1 && received() < (page - 3) * 1000) {
        // Only a gateway that stopped sending gets here for long: fail with what it did.
        if (Date.now() > gate)
          throw new Error(`page ${page} was requested while the client had only ${received()} names`);
        await new Promise<void>((r) => {
          waiting.push(r);
          setTimeout(r, 1000);
        });
      }
      const after = options.cursor ? Buffer.from(options.cursor, "base64url").toString() : undefined;
      let start = 0;
      if (after !== undefined) {
        let high = names.length;
        while (start < high) {
          const middle = (start + high) >> 1;
          if (compareKeys(`${folder}${names[middle]}`, after) <= 0) start = middle + 1;
          else high = middle;
        }
      }
      const slice = names.slice(start, start + limit);
      const objects = slice.map((name) => ({
        key: `${folder}${name}`,
        size: 7,
        etag: "e",
        lastModified: modified,
      }));
      pages.push({ limit: options.limit, size: objects.length });
      const last = objects.at(-1);
      return start + limit < names.length && last
        ? { objects, prefixes: [], cursor: Buffer.from(last.key).toString("base64url") }
        : { objects, prefixes: [] };
    },
  };
  return { driver, pages, wake, memory };
}

let counted = 0;
const big = bigFolderDriver(() => counted);
let gateway: Gateway;

beforeAll(async () => {
  await big.memory.put(`${folder}.s3keep`, "");
  gateway = await startGateway({ driver: big.driver, env: { FTP_TLS_REQUIRED: "false" } });
});
afterAll(async () => {
  await gateway?.[Symbol.asyncDispose]();
});

/** Runs curl with `command` on the folder and collects the names as they arrive, counting them. */
function streamNames(command: "LIST" | "MLSD"): Promise<string[]> {
  counted = 0;
  big.pages.length = 0;
  return new Promise((resolve, reject) => {
    const child = spawn("curl", ["-sS", "--fail", "-X", command, `ftp://u:p@127.0.0.1:${gateway.port}/big/`]);
    const received: string[] = [];
    let rest = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (text: string) => {
      const lines = (rest + text).split(/\r?\n/);
      rest = lines.pop()!;
      for (const line of lines) received.push(line.slice(line.lastIndexOf(" ") + 1));
      counted = received.length;
      big.wake();
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve(received) : reject(new Error(`curl exited ${code}: ${stderr}`)),
    );
  });
}

describe("a folder of 200,000 keys", () => {
  for (const command of ["LIST", "MLSD"] as const) {
    it(`${command} streams every name in order, one storage page at a time`, async () => {
      const received = await streamNames(command);
      expect(received.length).toBe(total);
      expect(received).toEqual(names);
      const paging = big.pages.filter((page) => page.limit !== 1);
      expect(paging.length).toBe(total / 1000);
      expect(Math.max(...paging.map((page) => page.size))).toBe(1000);
    });
  }
});
