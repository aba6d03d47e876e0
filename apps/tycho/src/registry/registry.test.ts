import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMemoryDriver, type StorageDriver } from "@wharf/storage-driver";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RegistryContext } from "./context.ts";
import { packageVersions, verifyVersions, versionInfo } from "./inspect.ts";
import { metaKey, packageKey } from "./layout.ts";
import { deleteVersion, yank } from "./manage.ts";
import { createMeta, readMeta } from "./meta.ts";
import { promote } from "./promote.ts";
import { partialSuffix, pull } from "./pull.ts";
import { push } from "./push.ts";

const kib = 1024;
let dir: string;
let storage: StorageDriver;
let context: RegistryContext;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tycho-unit-"));
  storage = createMemoryDriver();
  context = {
    storage,
    now: () => new Date("2025-01-02T03:04:05Z"),
    user: "alice@ci",
    transfer: { partSize: 64 * kib, rangeSize: 64 * kib, concurrency: 4 },
    claimStaleAfterMs: 60_000,
  };
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function file(name: string, bytes: number | string): Promise<string> {
  const path = join(dir, name);
  const body =
    typeof bytes === "string" ? bytes : Buffer.from(Array.from({ length: bytes }, (_, i) => (i * 7) % 251));
  await writeFile(path, body);
  return path;
}

const code = (value: string) => expect.objectContaining({ code: value });
const pullTo = (pkg: string, extra: { version?: string; force?: boolean } = {}) =>
  pull(context, { pkg, outdir: join(dir, "out"), cwd: dir, ...extra });

describe("push", () => {
  it("records sha256, pusher and time, and never overwrites a version", async () => {
    await createMeta(storage, "narf", "narf.bin");
    const path = await file("a.bin", 300 * kib);
    const result = await push(context, { pkg: "narf", version: "1.0", path });
    const expected = createHash("sha256")
      .update(await readFile(path))
      .digest("hex");
    expect(result.sha256).toBe(expected);
    const info = await versionInfo(context, "narf", "1.0");
    expect(info).toMatchObject({
      sha256: expected,
      pushedBy: "alice@ci",
      pushedAt: "2025-01-02T03:04:05.000Z",
    });
    await expect(push(context, { pkg: "narf", version: "1.0", path })).rejects.toThrow(
      code("ALREADY_EXISTS"),
    );
  });

  it("lets exactly one of several concurrent pushes of one version win", async () => {
    await createMeta(storage, "narf", "narf.bin");
    const paths = await Promise.all([1, 2, 3, 4, 5].map((n) => file(`f${n}`, 100 * kib + n)));
    const results = await Promise.allSettled(
      paths.map((path) => push(context, { pkg: "narf", version: "1.0", path })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results.filter((r) => r.status === "rejected"))
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: "ALREADY_EXISTS" });
  });

  it("refuses an uninitialised package before uploading anything (no orphan version)", async () => {
    const path = await file("a.bin", 10);
    await expect(push(context, { pkg: "ghost", version: "1.0", path, promoteLatest: true })).rejects.toThrow(
      code("NOT_FOUND"),
    );
    await expect(storage.head(packageKey("ghost", "1.0"))).rejects.toThrow(code("NOT_FOUND"));
  });

  it("takes over a claim left by a crashed push once it is stale", async () => {
    await createMeta(storage, "narf", "narf.bin");
    await storage.put(
      `${packageKey("narf", "1.0")}.claim`,
      JSON.stringify({ by: "x", at: "2025-01-01T00:00:00Z" }),
    );
    const path = await file("a.bin", 10);
    await expect(push(context, { pkg: "narf", version: "1.0", path })).resolves.toMatchObject({ size: 10 });
  });

  it("refuses while a fresh claim is held by another push", async () => {
    await createMeta(storage, "narf", "narf.bin");
    await storage.put(
      `${packageKey("narf", "1.0")}.claim`,
      JSON.stringify({ by: "x", at: "2025-01-02T03:04:00Z" }),
    );
    const path = await file("a.bin", 10);
    await expect(push(context, { pkg: "narf", version: "1.0", path })).rejects.toThrow(
      code("ALREADY_EXISTS"),
    );
  });
});

describe("tycho.json updates", () => {
  it("loses no update when promotes and yanks run concurrently", async () => {
    await createMeta(storage, "narf", "narf.bin");
    const path = await file("a.bin", 10);
    for (const v of ["1.0", "1.1", "1.2", "1.3"]) await push(context, { pkg: "narf", version: v, path });
    await Promise.all([
      promote(context, { pkg: "narf", version: "1.3" }),
      yank(context, { pkg: "narf", version: "1.0" }),
      yank(context, { pkg: "narf", version: "1.1" }),
      yank(context, { pkg: "narf", version: "1.2", reason: "broken" }),
    ]);
    const { meta } = await readMeta(storage, "narf");
    expect(meta.latest).toBe("1.3");
    expect(Object.keys(meta.yanked ?? {}).sort()).toEqual(["1.0", "1.1", "1.2"]);
  });

  it("keeps keys other tools wrote to tycho.json", async () => {
    await storage.put(metaKey("narf"), JSON.stringify({ localname: "n", latest: null, owner: "team-a" }));
    await storage.put(packageKey("narf", "1.0"), "x");
    await promote(context, { pkg: "narf", version: "1.0" });
    expect((await readMeta(storage, "narf")).meta).toMatchObject({ latest: "1.0", owner: "team-a" });
  });

  it("refuses to promote a yanked version", async () => {
    await createMeta(storage, "narf", "n");
    await push(context, { pkg: "narf", version: "1.0", path: await file("a", 1) });
    await yank(context, { pkg: "narf", version: "1.0" });
    await expect(promote(context, { pkg: "narf", version: "1.0" })).rejects.toThrow(
      code("PRECONDITION_FAILED"),
    );
    await yank(context, { pkg: "narf", version: "1.0", undo: true });
    await promote(context, { pkg: "narf", version: "1.0" });
  });

  it("never leaves latest naming a deleted or yanked version", async () => {
    await createMeta(storage, "narf", "n");
    const path = await file("a", 5);
    for (const v of ["1.9", "1.10", "2.0"])
      await push(context, { pkg: "narf", version: v, path, promoteLatest: true });
    await yank(context, { pkg: "narf", version: "2.0" });
    expect((await readMeta(storage, "narf")).meta.latest).toBe("1.10");
    await deleteVersion(context, { pkg: "narf", version: "1.10" });
    expect((await readMeta(storage, "narf")).meta.latest).toBe("1.9");
    expect((await packageVersions(context, "narf")).map((v) => v.version)).toEqual(["1.9", "2.0"]);
  });
});

describe("pull", () => {
  it("downloads in parallel ranges, verifies, writes the .etag sidecar, then skips", async () => {
    await createMeta(storage, "narf", "narf.bin");
    const path = await file("a.bin", 1000 * kib + 3);
    await push(context, { pkg: "narf", version: "1.0", path, promoteLatest: true });
    const first = await pullTo("narf");
    expect(first).toMatchObject({ skipped: false, verified: true, target: join(dir, "out", "narf.bin") });
    expect(await readFile(first.path)).toEqual(await readFile(path));
    expect(await readFile(`${first.path}.etag`, "utf8")).toBe(first.etag);
    expect(await pullTo("narf")).toMatchObject({ skipped: true });
    expect(await pullTo("narf", { force: true })).toMatchObject({ skipped: false });
  });

  it("resolves a semver range", async () => {
    await createMeta(storage, "narf", "narf.bin");
    const path = await file("a.bin", 3);
    for (const v of ["1.2.0", "1.9.0", "1.10.0", "2.0.0"])
      await push(context, { pkg: "narf", version: v, path });
    expect(await pullTo("narf", { version: "^1.2" })).toMatchObject({ version: "1.10.0" });
  });

  it("detects a corrupted object with CHECKSUM_MISMATCH and leaves no file behind", async () => {
    await createMeta(storage, "narf", "narf.bin");
    const path = await file("a.bin", 200 * kib);
    await push(context, { pkg: "narf", version: "1.0", path, promoteLatest: true });
    const stored = await storage.head(packageKey("narf", "1.0"));
    const evil = Buffer.alloc(200 * kib, 1);
    await storage.put(packageKey("narf", "1.0"), evil, { metadata: stored.metadata });
    await expect(pullTo("narf")).rejects.toThrow(code("CHECKSUM_MISMATCH"));
    const target = join(dir, "out", "narf.bin");
    await expect(stat(target)).rejects.toThrow();
    await expect(stat(`${target}${partialSuffix}`)).rejects.toThrow();
  });

  it("resumes an interrupted download, keeping the parts already on disk", async () => {
    await createMeta(storage, "narf", "narf.bin");
    const path = await file("a.bin", 256 * kib);
    await push(context, { pkg: "narf", version: "1.0", path, promoteLatest: true });
    const info = await storage.head(packageKey("narf", "1.0"));
    context = { ...context, transfer: { ...context.transfer, concurrency: 1 } };
    const controller = new AbortController();
    let parts = 0;
    const interrupted = pull(context, {
      pkg: "narf",
      outdir: join(dir, "out"),
      cwd: dir,
      signal: controller.signal,
      onProgress: (moved) => {
        // Parts in flight end with the abort (drivers honour the signal): abort once some are done.
        if (moved >= 192 * kib && parts++ === 0) controller.abort();
      },
    });
    await expect(interrupted).rejects.toThrow();
    const resumed = await pullTo("narf");
    expect(resumed.resumedBytes).toBeGreaterThan(0);
    expect(resumed.etag).toBe(`"${info.etag}"`);
    expect(await readFile(resumed.path)).toEqual(await readFile(path));
  });

  it("fails with NOT_FOUND for an unknown package, an unpromoted one and a missing version", async () => {
    await expect(pullTo("ghost")).rejects.toThrow(code("NOT_FOUND"));
    await createMeta(storage, "narf", "n");
    await expect(pullTo("narf")).rejects.toThrow(code("NOT_FOUND"));
    await expect(pullTo("narf", { version: "9.9" })).rejects.toThrow(code("NOT_FOUND"));
  });
});

describe("verify", () => {
  it("reports intact and corrupt versions", async () => {
    await createMeta(storage, "narf", "n");
    await push(context, { pkg: "narf", version: "1.0", path: await file("a", 50) });
    await push(context, { pkg: "narf", version: "2.0", path: await file("b", 60) });
    const meta2 = (await storage.head(packageKey("narf", "2.0"))).metadata;
    await storage.put(packageKey("narf", "2.0"), "tampered", { metadata: meta2 });
    const entries = await verifyVersions(context, "narf", []);
    expect(entries.map((e) => [e.version, e.status])).toEqual([
      ["1.0", "ok"],
      ["2.0", "mismatch"],
    ]);
  });
});
