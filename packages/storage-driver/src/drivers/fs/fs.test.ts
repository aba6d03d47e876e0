import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readdir, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { isWharfError } from "@wharf/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAll } from "../../body.ts";
import type { StorageDriver } from "../../types.ts";
import { createFsDriver, makeDirs } from "./fs.ts";
import { withFileLock } from "./lock.ts";
import { sweepStaleFiles } from "./sweep.ts";

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "resolved";
  } catch (error) {
    return isWharfError(error) ? error.code : `not a WharfError: ${String(error)}`;
  }
}

let root: string;
let outside: string;
let driver: StorageDriver;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "wharf-fs-unit-"));
  outside = await mkdtemp(join(tmpdir(), "wharf-fs-outside-"));
  driver = createFsDriver({ root });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

describe("fs driver on disk", () => {
  it("stores objects as plain files under the root", async () => {
    await driver.put("docs/readme.txt", "hello");
    expect(await readdir(join(root, "docs"))).toEqual(["readme.txt"]);
  });

  it("never follows a symlinked folder out of the root", async () => {
    await writeFile(join(outside, "secret"), "secret");
    await symlink(outside, join(root, "escape"));
    expect(await codeOf(driver.get("escape/secret"))).toBe("INVALID_ARGUMENT");
    expect(await codeOf(driver.put("escape/planted", "x"))).toBe("INVALID_ARGUMENT");
    expect(await readdir(outside)).toEqual(["secret"]);
    expect((await driver.list({ prefix: "escape" })).objects).toEqual([]);
  });

  it("refuses a symlinked file", async () => {
    await symlink(join(outside, "secret"), join(root, "link-to-secret"));
    expect(await codeOf(driver.get("link-to-secret"))).toBe("INVALID_ARGUMENT");
  });

  it("reports a key that collides with a folder of objects as INVALID_ARGUMENT", async () => {
    await driver.put("clash/inner", "x");
    expect(await codeOf(driver.put("clash", "x"))).toBe("INVALID_ARGUMENT");
    expect(await codeOf(driver.put("clash/inner/deeper", "x"))).toBe("INVALID_ARGUMENT");
    expect(await codeOf(driver.head("clash"))).toBe("NOT_FOUND");
  });

  it("keeps a partial upload invisible", async () => {
    let push: (() => void) | undefined;
    async function* slow() {
      yield Buffer.from("partial");
      await new Promise<void>((resolve) => {
        push = resolve;
      });
      throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    }
    const pending = codeOf(driver.put("partial/object", slow()));
    while (!push) await new Promise((resolve) => setImmediate(resolve));
    expect(await codeOf(driver.head("partial/object"))).toBe("NOT_FOUND");
    expect((await driver.list({ prefix: "partial" })).objects).toEqual([]);
    push();
    expect(await pending).toBe("CANCELLED");
    expect(await readdir(join(root, ".wharf-storage", "staging"))).toEqual([]);
  });

  it("describes a file whose sidecar is missing (crash between renames) by hashing it", async () => {
    await mkdir(join(root, "crashed"), { recursive: true });
    await writeFile(join(root, "crashed", "file"), "abc");
    const info = await driver.head("crashed/file");
    expect(info).toMatchObject({ size: 3, etag: "900150983cd24fb0d6963f7d28e17f72", metadata: {} });
    expect((await readAll((await driver.get("crashed/file")).body)).toString()).toBe("abc");
  });

  it("prunes folders emptied by delete", async () => {
    await driver.put("prune/a/b/c", "x");
    await driver.delete("prune/a/b/c");
    expect(await readdir(root)).not.toContain("prune");
  });
});

describe("fs makeDirs", () => {
  it("returns the parent of every folder it created (to fsync), nothing when all exist", async () => {
    const base = await mkdtemp(join(tmpdir(), "wharf-fs-dirs-"));
    try {
      expect(makeDirs(join(base, "a", "b", "c")).sort()).toEqual(
        [base, join(base, "a"), join(base, "a", "b")].sort(),
      );
      expect(makeDirs(join(base, "a", "b", "c"))).toEqual([]);
      expect(makeDirs(join(base, "a", "x"))).toEqual([join(base, "a")]);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});

describe("fs lock files", () => {
  let locks: string;
  beforeAll(async () => {
    locks = await mkdtemp(join(tmpdir(), "wharf-fs-locks-"));
  });
  afterAll(async () => {
    await rm(locks, { recursive: true, force: true });
  });

  it("breaks a lock left by a dead process", async () => {
    const lockFile = join(locks, "dead.lock");
    await writeFile(lockFile, `999999999\n${hostname()}\nnonce\n${Date.now()}`);
    expect(await withFileLock(lockFile, async () => "acquired")).toBe("acquired");
  });

  it("waits for a fresh lock of another host and breaks it once unchanged for staleMs", async () => {
    const lockFile = join(locks, "elsewhere.lock");
    await writeFile(lockFile, `1\nanother-host\nnonce\n${Date.now()}`);
    expect(await codeOf(withFileLock(lockFile, async () => "acquired", { timeoutMs: 50 }))).toBe(
      "UNAVAILABLE",
    );
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await withFileLock(lockFile, async () => "acquired", { staleMs: 100 })).toBe("acquired");
  });

  it("takes a lock as a link to the process's owner file: no inode per lock, nothing left after", async () => {
    const first = join(locks, "a.lock");
    const second = join(locks, "b.lock");
    const inodes = await withFileLock(first, () =>
      withFileLock(second, async () => [
        (await stat(first)).ino,
        (await stat(second)).ino,
        (await stat(first)).nlink,
      ]),
    );
    expect(inodes[0]).toBe(inodes[1]);
    expect(inodes[2]).toBe(3);
    const owners = await readdir(join(locks, ".owners"));
    expect(owners).toHaveLength(1);
    expect((await stat(join(locks, ".owners", owners[0]!))).nlink).toBe(1);
    expect((await readdir(locks)).filter((name) => name.endsWith(".lock"))).toEqual([]);
  });

  it("serialises callers of one lock in one process and recreates a removed owner file", async () => {
    const lockFile = join(locks, "queue.lock");
    const order: string[] = [];
    const step = (name: string) =>
      withFileLock(lockFile, async () => {
        order.push(`${name} in`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        order.push(`${name} out`);
      });
    await Promise.all([step("a"), step("b"), step("c")]);
    expect(order).toEqual(["a in", "a out", "b in", "b out", "c in", "c out"]);
    await rm(join(locks, ".owners"), { recursive: true });
    expect(await withFileLock(lockFile, async () => "again")).toBe("again");
  });
});

describe("fs staging sweep", () => {
  const minutes = (n: number) => n * 60 * 1000;

  async function stagingWith(ages: Record<string, number>): Promise<{ root: string; staging: string }> {
    const sweepRoot = await mkdtemp(join(tmpdir(), "wharf-fs-sweep-"));
    const staging = join(sweepRoot, ".wharf-storage", "staging");
    await mkdir(staging, { recursive: true });
    for (const [name, ageMs] of Object.entries(ages)) {
      await writeFile(join(staging, name), name);
      const at = new Date(Date.now() - ageMs);
      await utimes(join(staging, name), at, at);
    }
    return { root: sweepRoot, staging };
  }

  it("removes staging files left by a crashed writer when the driver is created, keeping recent ones", async () => {
    const { root: sweepRoot, staging } = await stagingWith({ crashed: minutes(120), "writing-now": 0 });
    const swept = createFsDriver({ root: sweepRoot });
    await swept.put("after", "x");
    await swept.close();
    expect(await readdir(staging)).toEqual(["writing-now"]);
    await rm(sweepRoot, { recursive: true, force: true });
  });

  it("honours a configured staging age and can be disabled", async () => {
    const { root: sweepRoot, staging } = await stagingWith({ old: minutes(20), young: minutes(5) });
    await createFsDriver({ root: sweepRoot, stagingMaxAgeMs: Number.POSITIVE_INFINITY }).close();
    expect((await readdir(staging)).sort()).toEqual(["old", "young"]);
    await createFsDriver({ root: sweepRoot }).close();
    expect((await readdir(staging)).sort()).toEqual(["old", "young"]);
    await createFsDriver({ root: sweepRoot, stagingMaxAgeMs: minutes(10) }).close();
    expect(await readdir(staging)).toEqual(["young"]);
    await rm(sweepRoot, { recursive: true, force: true });
  });

  it("inspects a bounded number of entries per sweep and tolerates a missing folder", async () => {
    const { root: sweepRoot, staging } = await stagingWith({
      a: minutes(120),
      b: minutes(120),
      c: minutes(120),
    });
    expect(await sweepStaleFiles(staging, { olderThanMs: minutes(60), maxEntries: 2 })).toBe(2);
    expect(await readdir(staging)).toHaveLength(1);
    expect(await sweepStaleFiles(join(sweepRoot, "missing"), { olderThanMs: 0 })).toBe(0);
    await rm(sweepRoot, { recursive: true, force: true });
  });
});

describe("fs conditional writes across processes", () => {
  const script = fileURLToPath(new URL("./fixtures/race-writer.ts", import.meta.url));

  async function race(
    key: string,
    mode: "create" | "replace",
    etag: string,
    count: number,
  ): Promise<string[]> {
    const children = Array.from({ length: count }, (_, i) =>
      spawn(process.execPath, [script, root, key, mode, etag, `process ${i}`], {
        stdio: ["pipe", "pipe", "inherit"],
      }),
    );
    const outputs = children.map((child) =>
      createInterface({ input: child.stdout! })[Symbol.asyncIterator](),
    );
    for (const output of outputs) expect((await output.next()).value).toBe("ready");
    for (const child of children) child.stdin!.write("go\n");
    const results = await Promise.all(outputs.map(async (output) => String((await output.next()).value)));
    await Promise.all(children.map((child) => (child.exitCode === null ? once(child, "exit") : undefined)));
    return results;
  }

  it("lets exactly one of several processes create a key with ifNoneMatch", async () => {
    const results = await race("race/create", "create", "", 4);
    expect(results.filter((r) => r === "won")).toHaveLength(1);
    expect(results.filter((r) => r === "PRECONDITION_FAILED")).toHaveLength(3);
    const winner = results.indexOf("won");
    expect((await readAll((await driver.get("race/create")).body)).toString()).toBe(`process ${winner}`);
  }, 60_000);

  it("lets exactly one of several processes replace a key with ifMatch", async () => {
    const { etag } = await driver.put("race/replace", "base");
    const results = await race("race/replace", "replace", etag, 4);
    expect(results.filter((r) => r === "won")).toHaveLength(1);
    expect(results.filter((r) => r === "PRECONDITION_FAILED")).toHaveLength(3);
  }, 60_000);
});
