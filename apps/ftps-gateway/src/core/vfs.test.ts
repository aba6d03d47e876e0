import { Readable } from "node:stream";
import { createMemoryDriver, readAll } from "@wharf/storage-driver";
import { describe, expect, it } from "vitest";
import { createVfs } from "./vfs.ts";

const setup = (options: { rmdRecursive?: boolean; home?: string } = {}) => {
  const driver = createMemoryDriver();
  const vfs = createVfs({ driver, home: options.home ?? "", dirSuffix: "/.s3keep", ...options });
  return { driver, vfs };
};

async function names(vfs: ReturnType<typeof createVfs>, path: string) {
  const out: string[] = [];
  for await (const entry of vfs.list(path)) out.push(`${entry.type}:${entry.name}`);
  return out;
}

describe("createVfs", () => {
  it("makes directories as aioftps3 marker objects under the home prefix and hides the markers", async () => {
    const { driver, vfs } = setup({ home: "users/bob" });
    await vfs.mkdir("/docs");
    await vfs.write("/docs/a.txt", Readable.from([Buffer.from("abc")]), 0);
    expect((await driver.head("users/bob/docs/.s3keep")).size).toBe(0);
    expect(await names(vfs, "/")).toEqual(["dir:docs"]);
    expect(await names(vfs, "/docs")).toEqual(["file:a.txt"]);
  });

  it("with aioftps3's suffix / uses S3 folder markers, and reads those aioftps3 wrote", async () => {
    const driver = createMemoryDriver();
    const vfs = createVfs({ driver, home: "", dirSuffix: "/" });
    await driver.put("legacy/", "");
    await driver.put("legacy/inner/", "");
    await vfs.mkdir("/made");
    expect((await driver.head("made/")).size).toBe(0);
    expect(await names(vfs, "/")).toEqual(["dir:legacy", "dir:made"]);
    expect(await names(vfs, "/legacy")).toEqual(["dir:inner"]);
    await vfs.write("/legacy/inner/f.txt", Readable.from([Buffer.from("x")]), 0);
    await vfs.rename("/legacy", "/moved");
    expect(await names(vfs, "/moved/inner")).toEqual(["file:f.txt"]);
    expect(await vfs.stat("/legacy")).toBeUndefined();
    await vfs.rmdir("/made");
    await expect(driver.head("made/")).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await names(vfs, "/")).toEqual(["dir:moved"]);
  });

  it("refuses MKD without a parent or over an existing entry", async () => {
    const { vfs } = setup();
    await expect(vfs.mkdir("/a/b")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await vfs.mkdir("/a");
    await expect(vfs.mkdir("/a")).rejects.toMatchObject({ code: "ALREADY_EXISTS" });
  });

  it("refuses RMD of a non-empty directory unless recursive", async () => {
    const strict = setup();
    await strict.vfs.mkdir("/d");
    await strict.vfs.write("/d/f", Readable.from([Buffer.from("x")]), 0);
    await expect(strict.vfs.rmdir("/d")).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    const recursive = setup({ rmdRecursive: true });
    await recursive.vfs.mkdir("/d");
    await recursive.vfs.write("/d/f", Readable.from([Buffer.from("x")]), 0);
    await recursive.vfs.rmdir("/d");
    expect(await recursive.vfs.stat("/d")).toBeUndefined();
  });

  it("renames a directory with everything below it, and refuses to overwrite one", async () => {
    const { vfs } = setup();
    await vfs.mkdir("/from");
    await vfs.mkdir("/from/inner");
    await vfs.write("/from/inner/f", Readable.from([Buffer.from("x")]), 0);
    await vfs.mkdir("/taken");
    await expect(vfs.rename("/from", "/taken")).rejects.toMatchObject({ code: "ALREADY_EXISTS" });
    await expect(vfs.rename("/from", "/from/inner/x")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await vfs.rename("/from", "/to");
    expect(await vfs.stat("/from")).toBeUndefined();
    expect(await names(vfs, "/to/inner")).toEqual(["file:f"]);
  });

  it("resumes a write at an offset and reads from an offset", async () => {
    const { vfs } = setup();
    await vfs.write("/f", Readable.from([Buffer.from("0123456789")]), 0);
    await vfs.write("/f", Readable.from([Buffer.from("abc")]), 4);
    expect((await readAll(await vfs.read("/f", 0))).toString()).toBe("0123abc");
    expect((await readAll(await vfs.read("/f", 5))).toString()).toBe("bc");
    expect((await readAll(await vfs.read("/f", 7))).toString()).toBe("");
    await expect(vfs.read("/f", 8)).rejects.toMatchObject({ code: "RANGE_NOT_SATISFIABLE" });
  });

  it("treats a folder holding objects but no marker (made outside the gateway) as a directory", async () => {
    const { driver, vfs } = setup();
    await driver.put("outside/x.bin", "x");
    expect(await vfs.stat("/outside")).toMatchObject({ type: "dir" });
    expect(await names(vfs, "/")).toEqual(["dir:outside"]);
  });
});
