import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { isWharfError } from "@wharf/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAll } from "../../body.ts";
import { parseStorageUrl } from "../../open-storage.ts";
import type { StorageDriver } from "../../types.ts";
import { createFsDriver } from "./fs.ts";

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "resolved";
  } catch (error) {
    return isWharfError(error) ? error.code : `not a WharfError: ${String(error)}`;
  }
}

const md5 = (text: string) => createHash("md5").update(text).digest("hex");
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

let root: string;
let versioned: StorageDriver;
let md5Driver: StorageDriver;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "wharf-fs-etag-"));
  versioned = createFsDriver({ root: join(root, "version"), etag: "version" });
  md5Driver = createFsDriver({ root: join(root, "md5") });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('fs driver with etag: "version"', () => {
  it("gives every write a new etag, even of the same bytes, and no content digest", async () => {
    const first = await versioned.put("v/a", "same");
    const second = await versioned.put("v/a", "same");
    expect(first.etag).toMatch(/^[0-9a-f]{32}$/);
    expect(second.etag).not.toBe(first.etag);
    expect(first.etag).not.toBe(md5("same"));
    expect(second.sha256).toBeUndefined();
    expect(await codeOf(versioned.put("v/a", "new", { ifMatch: first.etag }))).toBe("PRECONDITION_FAILED");
    expect((await versioned.put("v/a", "new", { ifMatch: second.etag })).size).toBe(3);
  });

  it("still verifies and records a sha256 the caller passes", async () => {
    const info = await versioned.put("v/checked", "payload", { sha256: sha256("payload") });
    expect(info.sha256).toBe(sha256("payload"));
    expect((await versioned.head("v/checked")).sha256).toBe(sha256("payload"));
    expect(await codeOf(versioned.put("v/bad", "payload", { sha256: sha256("other") }))).toBe(
      "CHECKSUM_MISMATCH",
    );
    expect(await codeOf(versioned.head("v/bad"))).toBe("NOT_FOUND");
  });

  it("keeps the recorded sha256 on copy and describes a file without sidecar without hashing it", async () => {
    await versioned.put("v/source", "copy me", { sha256: sha256("copy me") });
    expect((await versioned.copy("v/source", "v/copied")).sha256).toBe(sha256("copy me"));
    await mkdir(join(root, "version", "dropped"), { recursive: true });
    await writeFile(join(root, "version", "dropped", "file"), "abc");
    const info = await versioned.head("dropped/file");
    expect(info.size).toBe(3);
    expect(info.etag).not.toBe(md5("abc"));
    expect((await versioned.head("dropped/file")).etag).toBe(info.etag);
  });

  it("keeps no sidecar for a write that records nothing but its bytes, and still gives it a stable etag", async () => {
    const sidecarOf = (key: string) => join(root, "version", ".wharf-storage", "meta", ...key.split("/"));
    const first = await versioned.put("bare/a", "payload", { contentType: "application/octet-stream" });
    await expect(stat(sidecarOf("bare/a"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(first.etag).toMatch(/^[0-9a-f]{32}$/);
    const head = await versioned.head("bare/a");
    expect(head).toMatchObject({ size: 7, etag: first.etag, metadata: {} });
    expect(head.contentType).toBeUndefined();
    expect((await versioned.get("bare/a")).info.etag).toBe(first.etag);
    const listed = await versioned.list({ prefix: "bare/" });
    expect(listed.objects.map((o) => [o.key, o.etag])).toEqual([["bare/a", first.etag]]);

    const second = await versioned.put("bare/a", "payload");
    expect(second.etag).not.toBe(first.etag);
    expect(await codeOf(versioned.put("bare/a", "late", { ifMatch: first.etag }))).toBe(
      "PRECONDITION_FAILED",
    );
    expect(await codeOf(versioned.put("bare/a", "again", { ifNoneMatch: "*" }))).toBe("PRECONDITION_FAILED");

    // Changed in place behind the driver's back: a new etag.
    await writeFile(join(root, "version", "bare", "a"), "edited!");
    expect((await versioned.head("bare/a")).etag).not.toBe(second.etag);
  });

  it("switches an object between a sidecar and none, never mixing two writes", async () => {
    const sidecarOf = (key: string) => join(root, "version", ".wharf-storage", "meta", ...key.split("/"));
    const described = await versioned.put("switch/k", "one", {
      contentType: "text/plain",
      metadata: { a: "1" },
    });
    expect((await stat(sidecarOf("switch/k"))).isFile()).toBe(true);
    const bare = await versioned.put("switch/k", "two", { ifMatch: described.etag });
    await expect(stat(sidecarOf("switch/k"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(await versioned.head("switch/k")).toMatchObject({ etag: bare.etag, metadata: {} });
    const again = await versioned.put("switch/k", "three", { ifMatch: bare.etag, metadata: { b: "2" } });
    expect(await versioned.head("switch/k")).toMatchObject({ etag: again.etag, metadata: { b: "2" } });

    // Rename carries either kind with its etag.
    const moved = await versioned.rename("switch/k", "switch/moved");
    expect(moved).toMatchObject({ etag: again.etag, metadata: { b: "2" } });
    const plain = await versioned.put("switch/plain", "four");
    expect(await versioned.rename("switch/plain", "switch/moved")).toMatchObject({
      etag: plain.etag,
      metadata: {},
    });
    expect(await versioned.head("switch/moved")).toMatchObject({ etag: plain.etag, metadata: {} });
    await expect(stat(sidecarOf("switch/moved"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(await codeOf(versioned.head("switch/plain"))).toBe("NOT_FOUND");
  });

  it("drops a sidecar a crash left naming another file, and verifies a sha256 it need not record", async () => {
    const sidecarOf = (key: string) => join(root, "version", ".wharf-storage", "meta", ...key.split("/"));
    await mkdir(join(root, "version", ".wharf-storage", "meta", "crash"), { recursive: true });
    // A sidecar placed before its data file, by a writer that died before the rename.
    await writeFile(
      sidecarOf("crash/k"),
      JSON.stringify({
        v: 1,
        ino: 1,
        size: 5,
        etag: "0".repeat(32),
        contentType: "text/plain",
        metadata: {},
      }),
    );
    expect(await codeOf(versioned.head("crash/k"))).toBe("NOT_FOUND");
    await mkdir(join(root, "version", "crash"), { recursive: true });
    await writeFile(join(root, "version", "crash", "k"), "bytes");
    const info = await versioned.head("crash/k");
    expect(info).toMatchObject({ size: 5, metadata: {} });
    expect(info.contentType).toBeUndefined();
    await expect(stat(sidecarOf("crash/k"))).rejects.toMatchObject({ code: "ENOENT" });
    expect((await versioned.head("crash/k")).etag).toBe(info.etag);

    const oid = sha256("content-addressed");
    const put = await versioned.put(`lfs/${oid}`, "content-addressed", { sha256: oid, recordSha256: false });
    await expect(stat(sidecarOf(`lfs/${oid}`))).rejects.toMatchObject({ code: "ENOENT" });
    expect((await versioned.head(`lfs/${oid}`)).etag).toBe(put.etag);
    expect(
      await codeOf(versioned.put(`lfs/${sha256("x")}`, "y", { sha256: sha256("x"), recordSha256: false })),
    ).toBe("CHECKSUM_MISMATCH");
    expect(await codeOf(versioned.head(`lfs/${sha256("x")}`))).toBe("NOT_FOUND");
  });

  it("never shows a reader in another process one write's bytes with another's etag or metadata", async () => {
    const script = fileURLToPath(new URL("./fixtures/alternating-writer.ts", import.meta.url));
    const writer = spawn(process.execPath, [script, join(root, "version"), "alternating/k", "300"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const written = new Map<string, string>();
    let done = false;
    const reading = (async () => {
      for await (const line of createInterface({ input: writer.stdout! })) {
        if (line === "done") break;
        const { body, etag } = JSON.parse(line) as { body: string; etag: string };
        written.set(body, etag);
      }
      done = true;
    })();
    const seen: { body: string; etag: string; contentType?: string; metadata: Record<string, string> }[] = [];
    while (!done) {
      try {
        const { info, body } = await versioned.get("alternating/k");
        seen.push({
          body: (await readAll(body)).toString(),
          etag: info.etag,
          ...(info.contentType === undefined ? {} : { contentType: info.contentType }),
          metadata: info.metadata,
        });
      } catch (error) {
        if (!isWharfError(error) || error.code !== "NOT_FOUND") throw error;
      }
    }
    await reading;
    expect(seen.length).toBeGreaterThan(20);
    for (const read of seen) {
      const n = Number(read.body.split(" ")[1]);
      expect(read.etag, read.body).toBe(written.get(read.body));
      if (n % 2 === 0) expect(read).toMatchObject({ contentType: "text/plain", metadata: { n: String(n) } });
      else expect(read, read.body).toEqual({ body: read.body, etag: read.etag, metadata: {} });
    }
  }, 60_000);

  it("keeps md5 etags by default", async () => {
    expect((await md5Driver.put("m/a", "same")).etag).toBe(md5("same"));
  });

  it("takes the mode from the storage URL", () => {
    expect(parseStorageUrl("file:///srv/data?etag=version")).toMatchObject({ kind: "fs", etag: "version" });
    expect(parseStorageUrl("file:///srv/data")).not.toHaveProperty("etag");
    expect(() => parseStorageUrl("file:///srv/data?etag=sha1")).toThrow(/etag must be md5 or version/);
  });
});

describe("fs driver rename on disk", () => {
  it("moves the file itself (same inode) and leaves no empty source folders", async () => {
    await md5Driver.put("r/deep/inside/file", "bytes", { contentType: "text/plain" });
    const before = await stat(join(root, "md5", "r", "deep", "inside", "file"));
    await md5Driver.rename("r/deep/inside/file", "r2/file");
    const after = await stat(join(root, "md5", "r2", "file"));
    expect(after.ino).toBe(before.ino);
    expect(await readdir(join(root, "md5"))).not.toContain("r");
    expect(await md5Driver.head("r2/file")).toMatchObject({ etag: md5("bytes"), contentType: "text/plain" });
  });

  it("moves a folder with one rename, keeping every object's metadata", async () => {
    await md5Driver.put("tree/a", "a", { metadata: { who: "a" } });
    await md5Driver.put("tree/b/c", "c", { metadata: { who: "c" } });
    const inode = (await stat(join(root, "md5", "tree"))).ino;
    await md5Driver.renamePrefix("tree/", "moved/tree/");
    expect((await stat(join(root, "md5", "moved", "tree"))).ino).toBe(inode);
    expect((await md5Driver.head("moved/tree/b/c")).metadata).toEqual({ who: "c" });
    expect((await readAll((await md5Driver.get("moved/tree/a")).body)).toString()).toBe("a");
    expect(await codeOf(md5Driver.head("tree/a"))).toBe("NOT_FOUND");
  });

  it("refuses to rename onto a folder of objects", async () => {
    await md5Driver.put("clash/inner", "x");
    await md5Driver.put("lonely", "y");
    expect(await codeOf(md5Driver.rename("lonely", "clash"))).toBe("INVALID_ARGUMENT");
    expect((await readAll((await md5Driver.get("lonely")).body)).toString()).toBe("y");
  });
});

describe("fs driver listing a large folder", () => {
  it("pages through a quiet folder of 2500 files and still sees changes made after it was read", async () => {
    const lister = createFsDriver({ root: join(root, "large") });
    const folder = join(root, "large", "big");
    await mkdir(folder, { recursive: true });
    const names = Array.from({ length: 2500 }, (_, i) => `f${String(i).padStart(5, "0")}`);
    for (const name of names) await writeFile(join(folder, name), "");
    const past = new Date(Date.now() - 60_000);
    await utimes(folder, past, past);
    const pages = async () => {
      const keys: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await lister.list({ prefix: "big/", limit: 1000, ...(cursor ? { cursor } : {}) });
        keys.push(...page.objects.map((o) => o.key));
        cursor = page.cursor;
      } while (cursor);
      return keys;
    };
    expect(await pages()).toEqual(names.map((name) => `big/${name}`));
    await lister.put("big/f00100x", "new");
    await lister.delete("big/f00007");
    const after = await pages();
    expect(after).toContain("big/f00100x");
    expect(after).not.toContain("big/f00007");
    expect(after).toHaveLength(2500);
  });
});
