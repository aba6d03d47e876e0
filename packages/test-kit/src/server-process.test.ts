import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "./fs.ts";
import { type CheckedServer, spawnCheckedServer } from "./server-process.ts";

/** Runs `source` as a server script; resolves once it wrote its first output. */
async function serve(dir: string, source: string): Promise<CheckedServer> {
  const entry = join(dir, `server-${Math.random().toString(36).slice(2)}.mjs`);
  await writeFile(entry, source);
  const server = spawnCheckedServer(entry);
  await server.waitForOutput("\n");
  return server;
}

/** The script's last statement: its first output tells the test it is ready. */
const listening =
  'setInterval(() => {}, 1000); console.log(JSON.stringify({ level: 30, msg: "listening" }));';

describe("spawnCheckedServer", () => {
  it("passes a server that is stopped by the test, and reports its exit code", async () => {
    await using dir = await tempDir("server-process-");
    await using server = await serve(dir.path, `process.on("SIGTERM", () => process.exit(0)); ${listening}`);
    expect(await server.stop()).toBe(0);
    expect(() => server.check()).not.toThrow();
  });

  it("fails on an unheard 'error' event that ends the server", async () => {
    await using dir = await tempDir("server-process-");
    const server = await serve(
      dir.path,
      `import { EventEmitter } from "node:events";
      setImmediate(() => new EventEmitter().emit("error", new Error("boom"))); ${listening}`,
    );
    await server.exited;
    await expect(server[Symbol.asyncDispose]()).rejects.toThrow(
      /uncaught exception[\s\S]*exited unexpectedly/,
    );
  });

  it("fails when the server logged an uncaught exception it survived, or a fatal record", async () => {
    await using dir = await tempDir("server-process-");
    for (const record of [
      { level: 50, msg: "uncaught exception; still serving" },
      { level: 60, msg: "giving up" },
    ]) {
      const server = await serve(
        dir.path,
        `${listening} console.log(${JSON.stringify(JSON.stringify(record))});`,
      );
      await server.waitForOutput(record.msg);
      await expect(server[Symbol.asyncDispose]()).rejects.toThrow(/logged an uncaught exception/);
      expect(server.child.signalCode).toBe("SIGKILL");
    }
  });

  it("fails when the server exits with code 0 unasked", async () => {
    await using dir = await tempDir("server-process-");
    const server = await serve(dir.path, 'console.log("bye");');
    expect(await server.exited).toBe(0);
    expect(() => server.check()).toThrow(/exited unexpectedly \(code 0/);
  });
});
