import { randomBytes } from "node:crypto";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bytes, md5, type RunResult, sha256, type Workspace, whenInDir, workspace } from "./harness.ts";

/** Direct access to the store under the CLI, bypassing tycho: to lay out or damage objects. */
export interface RawStore {
  put(key: string, body: Buffer | string, metadata?: Record<string, string>): Promise<void>;
  get(key: string): Promise<Buffer>;
  metadata(key: string): Promise<Record<string, string>>;
}

export interface Backend {
  /** The store's etags are body md5s, as on S3 (tychoreg's `.etag` sidecars hold them). */
  readonly md5Etags: boolean;
  /**
   * The store has no conditional writes (Swift's s3api): every command warns on stderr (checked,
   * then left out of what the cases compare), and the concurrency cases, which need the guarantee,
   * are skipped.
   */
  readonly unguarded?: boolean;
  /** A second S3 implementation, run for what differs: only the transcript, multipart and yank cases. */
  readonly lean?: boolean;
  /** A fresh, empty registry: the config file (tychoreg format) or env that points the CLI at it. */
  create(): Promise<{ config?: unknown; env?: Record<string, string>; raw: RawStore } & AsyncDisposable>;
}

const mib = 1024 * 1024;

async function info(ws: Workspace, pkg: string, version: string): Promise<{ etag: string }> {
  return (await ws.run("info", pkg, version, "--json")).json<{ etag: string }>();
}
const exit = { ok: 0, usage: 2, notFound: 4, exists: 5, precondition: 6, checksum: 7 };

const unguardedWarning =
  /^Warning: the store has no conditional writes \(capability conditionalWrite\)[^\n]*\n/;

/** Checks that a command on a store without conditional writes warned, and drops the warning. */
function warned(result: RunResult): RunResult {
  expect(result.stderr).toMatch(unguardedWarning);
  return { ...result, stderr: result.stderr.replace(unguardedWarning, "") };
}

export function cliSuite(name: string, backend: Backend): void {
  const full = backend.lean ? it.skip : it;
  const guarded = backend.unguarded ? it.skip : full;

  async function setup(extraConfig?: (config: Record<string, unknown>) => Record<string, unknown>) {
    const store = await backend.create();
    const config =
      store.config && extraConfig ? extraConfig(store.config as Record<string, unknown>) : store.config;
    const opened = await workspace({
      ...(config ? { config } : {}),
      ...(store.env ? { env: store.env } : {}),
    });
    const ws: Workspace = backend.unguarded
      ? {
          ...opened,
          run: async (...args) => warned(await opened.run(...args)),
          runWith: async (env, ...args) => warned(await opened.runWith(env, ...args)),
          spawn: async (...args) => warned(await opened.spawn(...args)),
        }
      : opened;
    return {
      ws,
      raw: store.raw,
      [Symbol.asyncDispose]: async () => {
        await ws[Symbol.asyncDispose]();
        await store[Symbol.asyncDispose]();
      },
    };
  }

  describe(`tycho CLI on ${name}`, () => {
    it("replays tychoreg's transcript with the same messages, exiting non-zero on handled errors", async () => {
      await using env = await setup();
      const { ws, raw } = env;
      const f1 = await ws.file("f1.txt", "one\n");
      const f2 = await ws.file("f2.txt", "two two\n");
      const run = ws.run;

      expect(await ws.spawn("list")).toMatchObject({ code: exit.ok, stdout: "" });
      expect(await ws.spawn("init", "narf", "narf.txt")).toMatchObject({
        code: 0,
        stdout: "Initialized: narf\n",
      });
      expect(await ws.spawn("init", "narf", "narf.txt")).toMatchObject({
        code: exit.exists,
        stderr: "Already Initialized: narf\n",
      });
      expect(await run("push", "narf", "1.0", f1)).toMatchObject({ code: 0, stdout: "" });
      expect(await run("pull", "narf")).toMatchObject({
        code: exit.notFound,
        stderr: "Nothing to Pull: narf\n",
      });
      expect(await run("push", "narf", "1.0", f2)).toMatchObject({
        code: exit.exists,
        stderr: "Already Exists: narf, Version 1.0\n",
      });
      expect(await run("promote", "narf", "1.0")).toMatchObject({ code: 0, stdout: "" });
      const pulled = await run("pull", "narf");
      expect(pulled.code).toBe(0);
      expect(pulled.lines[0]).toBe("Pulling: narf 1.0 -> tycho_packages/narf.txt");
      expect(pulled.lines[1]).toMatch(/^File Hash: ".+"$/);
      expect(await readFile(join(ws.dir, "tycho_packages/narf.txt"), "utf8")).toBe("one\n");
      expect(await readFile(join(ws.dir, "tycho_packages/narf.txt.etag"), "utf8")).toBe(
        pulled.lines[1]?.slice(11),
      );
      expect(await run("pull", "narf")).toMatchObject({ code: 0, stdout: "Skipping: narf\n" });
      expect(await run("push", "narf", "2.0", f2, "--promote-latest")).toMatchObject({ code: 0 });
      const outfile = await run("pull", "narf", "--version", "1.0", "--outfile", "out/x.txt");
      expect(outfile.lines[0]).toBe(`Pulling: narf 1.0 -> ${join(ws.dir, "out/x.txt")}`);
      expect(await readFile(join(ws.dir, "out/x.txt"), "utf8")).toBe("one\n");
      expect(await run("promote", "narf", "9.9")).toMatchObject({
        code: exit.notFound,
        stderr: "Does Not Exist: narf, Version 9.9\n",
      });
      expect((await run("list")).stdout).toBe("narf -- Latest Version: 2.0\n");
      expect((await run("list-versions", "narf")).stdout).toBe("narf Versions\n  - 1.0\n  - 2.0\n");
      const both = await run("pull-list", "narf", "narf");
      expect(both.lines).toEqual([
        "Pulling: narf 2.0 -> tycho_packages/narf.txt",
        expect.stringMatching(/^File Hash: /),
        "Skipping: narf",
      ]);
      expect(await run("pull", "nosuch")).toMatchObject({ code: exit.notFound });
      expect(await run("list-versions", "nosuch")).toMatchObject({ code: exit.notFound });

      // What tychoreg reads: tycho.json as json.dumps(indent=2) would write it, the file byte for byte.
      expect((await raw.get("narf/tycho.json")).toString()).toBe(
        '{\n  "localname": "narf.txt",\n  "latest": "2.0"\n}',
      );
      expect((await raw.get("narf/tycho_2.0.pkg")).toString()).toBe("two two\n");
    });

    guarded("lets exactly one of several concurrent push processes of one version win", async () => {
      await using env = await setup();
      const { ws } = env;
      await ws.run("init", "race", "race.bin");
      const files = await Promise.all([1, 2, 3, 4].map((n) => ws.file(`r${n}`, bytes(1000 + n, n))));
      const results = await Promise.all(
        files.map((file) => ws.spawn("push", "race", "1.0", file, "--promote-latest")),
      );
      const codes = results.map((result) => result.code).sort();
      expect(codes).toEqual([0, exit.exists, exit.exists, exit.exists]);
      const winner = files[results.findIndex((result) => result.code === 0)] as string;
      await ws.run("pull", "race");
      expect(await readFile(join(ws.dir, "tycho_packages/race.bin"))).toEqual(await readFile(winner));
    });

    guarded("loses no tycho.json update when promotes and yanks run concurrently", async () => {
      await using env = await setup();
      const { ws } = env;
      await ws.run("init", "busy", "busy.bin");
      const file = await ws.file("b", "b");
      for (const version of ["1.0", "1.1", "1.2", "1.3", "1.4"]) await ws.run("push", "busy", version, file);
      const results = await Promise.all([
        ws.spawn("promote", "busy", "1.4"),
        ws.spawn("yank", "busy", "1.0"),
        ws.spawn("yank", "busy", "1.1"),
        ws.spawn("yank", "busy", "1.2"),
        ws.spawn("promote", "busy", "1.3"),
      ]);
      expect(results.map((result) => result.code)).toEqual([0, 0, 0, 0, 0]);
      const info = (await ws.run("list-versions", "busy", "--json")).json<{
        versions: { version: string; yanked: boolean; latest: boolean }[];
      }>();
      expect(info.versions.filter((v) => v.yanked).map((v) => v.version)).toEqual(["1.0", "1.1", "1.2"]);
      expect(info.versions.filter((v) => v.latest).map((v) => v.version)).toEqual([
        expect.stringMatching(/^1\.[34]$/),
      ]);
    });

    it("pushes and pulls a multi-part file in parallel parts, verified end to end", async () => {
      await using env = await setup((config) => ({
        ...config,
        tycho: { ...(config.tycho as object), part_size_mb: 5 },
      }));
      const { ws } = env;
      const data = bytes(12 * mib + 17, 7);
      const file = await ws.file("big.bin", data);
      await ws.run("init", "big", "big.bin");
      const pushed = await ws.run("push", "big", "1.0.0", file, "--promote-latest", "--json");
      expect(pushed.code).toBe(0);
      expect(pushed.json()).toMatchObject({ size: data.length, sha256: sha256(data), promoted: true });
      const pulled = (await ws.run("pull", "big", "--json")).json<{ verified: boolean; sha256: string }>();
      expect(pulled).toMatchObject({ verified: true, sha256: sha256(data) });
      expect(sha256(await readFile(join(ws.dir, "tycho_packages/big.bin")))).toBe(sha256(data));
    });

    full("resumes an interrupted pull from the parts already on disk", async () => {
      await using env = await setup((config) => ({
        ...config,
        tycho: { ...(config.tycho as object), part_size_mb: 5 },
      }));
      const { ws } = env;
      const data = bytes(11 * mib, 3);
      await ws.run("init", "res", "res.bin");
      await ws.run("push", "res", "1.0", await ws.file("res.src", data), "--promote-latest");
      const info = (await ws.run("info", "res", "1.0", "--json")).json<{ etag: string }>();
      // What a pull killed after its first part leaves behind: the partial file and its progress.
      const target = join(ws.dir, "tycho_packages/res.bin");
      const partial = Buffer.alloc(data.length);
      data.copy(partial, 0, 0, 5 * mib);
      await mkdir(join(ws.dir, "tycho_packages"));
      await writeFile(`${target}.tycho-partial`, partial);
      const state = {
        key: "res/tycho_1.0.pkg",
        etag: info.etag,
        size: data.length,
        partSize: 5 * mib,
        done: [0],
      };
      await writeFile(`${target}.tycho-partial.json`, JSON.stringify(state));
      const pulled = await ws.run("pull", "res", "--json");
      expect(pulled.code).toBe(0);
      expect(pulled.json()).toMatchObject({ resumedBytes: 5 * mib, verified: true });
      expect(sha256(await readFile(target))).toBe(sha256(data));
      await expect(stat(`${target}.tycho-partial`)).rejects.toThrow();
      await expect(stat(`${target}.tycho-partial.json`)).rejects.toThrow();
    });

    full(
      "resumes a pull whose process was killed mid-transfer, fetching only the missing parts",
      async () => {
        await using env = await setup((config) => ({
          ...config,
          tycho: { ...(config.tycho as object), part_size_mb: 5 },
        }));
        const { ws } = env;
        const data = randomBytes(96 * mib + 321);
        await ws.run("init", "kill", "kill.bin");
        await ws.run("push", "kill", "1.0", await ws.file("kill.src", data), "--promote-latest");
        const folder = join(ws.dir, "tycho_packages");
        const target = join(folder, "kill.bin");
        const statePath = `${target}.tycho-partial.json`;
        await mkdir(folder);

        // One part at a time, so the kill lands while most parts are still to come.
        const first = ws.start("pull", "kill", "--concurrency", "1");
        const recorded = await whenInDir(
          folder,
          async () => {
            const state = await readFile(statePath, "utf8").then(
              (text) => JSON.parse(text) as { done: number[] },
              () => undefined,
            );
            return state && state.done.length > 0 ? state : undefined;
          },
          first.done,
        );
        first.child.kill("SIGKILL");
        expect((await first.done).signal).toBe("SIGKILL");
        expect(recorded.done.length).toBeGreaterThan(0);
        await expect(stat(target)).rejects.toThrow();
        expect((await stat(`${target}.tycho-partial`)).size).toBe(data.length);

        const second = await ws.spawn("pull", "kill", "--json");
        expect(second.code).toBe(exit.ok);
        const report = second.json<{ resumedBytes: number; fetchedBytes: number; verified: boolean }>();
        expect(report.verified).toBe(true);
        expect(report.resumedBytes).toBeGreaterThanOrEqual(recorded.done.length * 5 * mib);
        expect(report.fetchedBytes).toBe(data.length - report.resumedBytes);
        expect((await readFile(target)).equals(data)).toBe(true);
        await expect(stat(`${target}.tycho-partial`)).rejects.toThrow();
        await expect(stat(statePath)).rejects.toThrow();
      },
    );

    full("detects a corrupted object at pull and at verify, leaving no file behind", async () => {
      await using env = await setup();
      const { ws, raw } = env;
      await ws.run("init", "bad", "bad.bin");
      await ws.run("push", "bad", "1.0", await ws.file("good", bytes(4096)), "--promote-latest");
      await raw.put("bad/tycho_1.0.pkg", bytes(4096, 9), await raw.metadata("bad/tycho_1.0.pkg"));
      const pulled = await ws.run("pull", "bad");
      expect(pulled.code).toBe(exit.checksum);
      expect(pulled.stderr).toMatch(/^Checksum Mismatch: bad, Version 1\.0/);
      await expect(stat(join(ws.dir, "tycho_packages/bad.bin"))).rejects.toThrow();
      await expect(stat(join(ws.dir, "tycho_packages/bad.bin.tycho-partial"))).rejects.toThrow();
      expect(await ws.run("verify", "bad")).toMatchObject({ code: exit.checksum });
    });

    full("reads a registry laid out exactly as tychoreg writes it", async () => {
      await using env = await setup();
      const { ws, raw } = env;
      await raw.put("legacy/tycho.json", '{\n  "localname": "legacy.tar.gz",\n  "latest": "1.9"\n}');
      for (const version of ["1.9", "1.10", "1.2"])
        await raw.put(`legacy/tycho_${version}.pkg`, `v${version}`);
      await raw.put("empty/tycho.json", '{\n  "localname": "e",\n  "latest": null\n}');
      expect((await ws.run("list")).stdout).toBe(
        "empty -- Latest Version: None\nlegacy -- Latest Version: 1.9\n",
      );
      expect((await ws.run("list-versions", "legacy")).stdout).toBe(
        "legacy Versions\n  - 1.2\n  - 1.9\n  - 1.10\n",
      );
      const pulled = await ws.run("pull", "legacy");
      const etag = backend.md5Etags ? md5("v1.9") : (await info(ws, "legacy", "1.9")).etag;
      expect(pulled.lines).toEqual([
        "Pulling: legacy 1.9 -> tycho_packages/legacy.tar.gz",
        `File Hash: "${etag}"`,
      ]);
      expect(await ws.run("pull", "legacy", "--version", "^1.2")).toMatchObject({ code: 0 });
      expect(await readFile(join(ws.dir, "tycho_packages/legacy.tar.gz"), "utf8")).toBe("v1.10");
      expect(await ws.run("verify", "legacy", "1.9")).toMatchObject({ code: 0 });
      await ws.run("promote", "legacy", "1.10");
      expect((await raw.get("legacy/tycho.json")).toString()).toBe(
        '{\n  "localname": "legacy.tar.gz",\n  "latest": "1.10"\n}',
      );
    });

    full("pulls into a subfolder of outdir and reads versions tychoreg pushed with a slash", async () => {
      // Bugs: `init p lib/tool.bin` could not be pulled, even with --outfile; versions with `/` were
      // hidden from list-versions and verify, and pull --version / promote refused them.
      await using env = await setup();
      const { ws, raw } = env;
      await raw.put("tools/tycho.json", '{\n  "localname": "lib/tool.bin",\n  "latest": "release/1.0"\n}');
      await raw.put("tools/tycho_release/1.0.pkg", "slashed");
      await raw.put("tools/tycho_1.0.pkg", "plain");
      expect((await ws.run("list-versions", "tools")).stdout).toBe(
        "tools Versions\n  - release/1.0\n  - 1.0\n",
      );
      const pulled = await ws.run("pull", "tools");
      expect(pulled.lines[0]).toBe("Pulling: tools release/1.0 -> tycho_packages/lib/tool.bin");
      expect(await readFile(join(ws.dir, "tycho_packages/lib/tool.bin"), "utf8")).toBe("slashed");
      expect(await ws.run("promote", "tools", "1.0")).toMatchObject({ code: 0 });
      expect(await ws.run("promote", "tools", "release/1.0")).toMatchObject({ code: 0 });
      const exact = await ws.run("pull", "tools", "--version", "release/1.0", "--outfile", "out.bin");
      expect(exact).toMatchObject({ code: 0 });
      expect(await readFile(join(ws.dir, "out.bin"), "utf8")).toBe("slashed");
      const verified = await ws.run("verify", "tools", "--json");
      expect(verified.json<{ version: string }[]>().map((entry) => entry.version)).toEqual([
        "release/1.0",
        "1.0",
      ]);
      expect(await ws.run("info", "tools", "release/1.0", "--json")).toMatchObject({ code: 0 });

      await ws.run("init", "own", "./bin/own.bin");
      await ws.run("push", "own", "1.0", await ws.file("own", "own"), "--promote-latest");
      expect((await ws.run("pull", "own")).lines[0]).toBe("Pulling: own 1.0 -> tycho_packages/bin/own.bin");
      expect(await readFile(join(ws.dir, "tycho_packages/bin/own.bin"), "utf8")).toBe("own");
      expect(await ws.run("push", "own", "release/2.0", await ws.file("own2", "2"))).toMatchObject({
        code: exit.usage,
      });

      // What leaves outdir is refused, unless --outfile says where the file goes.
      await raw.put("evil/tycho.json", '{\n  "localname": "../../evil.sh",\n  "latest": "1.0"\n}');
      await raw.put("evil/tycho_1.0.pkg", "evil");
      expect(await ws.run("pull", "evil")).toMatchObject({ code: exit.usage, stdout: "" });
      expect(await ws.run("pull", "evil", "--outfile", "safe.sh")).toMatchObject({ code: 0 });
      expect(await readFile(join(ws.dir, "safe.sh"), "utf8")).toBe("evil");
    });

    guarded("clears the claim of a killed push with unclaim, guarded by --yes", async () => {
      // Bug: a push killed with SIGKILL blocked its version for 60 minutes with no way to clear it.
      await using env = await setup();
      const { ws, raw } = env;
      await ws.run("init", "k", "k.bin");
      const file = await ws.file("k", "kept");
      const at = new Date().toISOString();
      await raw.put("k/tycho_1.0.pkg.claim", JSON.stringify({ by: "ci@dead", at }));
      const blocked = await ws.run("push", "k", "1.0", file);
      expect(blocked.code).toBe(exit.exists);
      expect(blocked.stderr).toBe(
        `Push In Progress: k, Version 1.0 (by ci@dead since ${at}); if that push was killed: tycho unclaim k 1.0\n`,
      );
      expect(await ws.run("unclaim", "k", "1.0")).toMatchObject({
        code: exit.precondition,
        stdout: "",
        stderr: `Claimed: k, Version 1.0 by ci@dead since ${at}. If that push is no longer running, run again with --yes\n`,
      });
      expect(await ws.run("push", "k", "1.0", file)).toMatchObject({ code: exit.exists });
      expect(await ws.run("unclaim", "k", "1.0", "--yes")).toMatchObject({
        code: 0,
        stdout: `Unclaimed: k, Version 1.0 (held by ci@dead since ${at}; 0 unfinished uploads aborted)\n`,
      });
      expect(await ws.run("push", "k", "1.0", file, "--promote-latest")).toMatchObject({ code: 0 });
      expect(await ws.run("unclaim", "k", "1.0", "--yes")).toMatchObject({
        code: exit.notFound,
        stderr: "No Claim: k, Version 1.0\n",
      });
    });

    guarded("lists and clears what killed pushes left across the registry with sweep", async () => {
      // Bug: nothing found or cleared the claims and uploads of pushes killed with SIGKILL.
      await using env = await setup();
      const { ws, raw } = env;
      await ws.run("init", "s", "s.bin");
      const t0 = new Date();
      const later = new Date(t0.getTime() + 2 * 3600_000);
      const recent = new Date(later.getTime() - 60_000).toISOString();
      await raw.put("s/tycho_1.0.pkg.claim", JSON.stringify({ by: "ci@dead", at: t0.toISOString() }));
      await raw.put("s/tycho_2.0.pkg.claim", JSON.stringify({ by: "ci@live", at: recent }));
      const stale = `Stale Claim: s, Version 1.0 (by ci@dead since ${t0.toISOString()})\n`;
      expect(await ws.runAt(later, "sweep")).toMatchObject({
        code: 0,
        stdout: stale,
        stderr: "Run again with --yes to clear them.\n",
      });
      expect(await ws.runAt(later, "sweep", "--yes")).toMatchObject({
        code: 0,
        stdout: `${stale}Cleared: 1 stale claims, 0 unfinished uploads older than 24 hours\n`,
      });
      expect(await ws.runAt(later, "sweep")).toMatchObject({ code: 0, stdout: "", stderr: "" });
      const file = await ws.file("s", "s");
      expect(await ws.run("push", "s", "1.0", file)).toMatchObject({ code: 0 });
      expect(await ws.run("push", "s", "2.0", file)).toMatchObject({ code: exit.exists });
    });

    full("keeps the tychoreg skip rule: a matching .etag sidecar and size skip the download", async () => {
      await using env = await setup();
      const { ws, raw } = env;
      await raw.put("old/tycho.json", '{\n  "localname": "o.txt",\n  "latest": "1.0"\n}');
      await raw.put("old/tycho_1.0.pkg", "hello");
      await mkdir(join(ws.dir, "tycho_packages"));
      await ws.file("tycho_packages/o.txt", "HELLO");
      const etag = backend.md5Etags ? md5("hello") : (await info(ws, "old", "1.0")).etag;
      await ws.file("tycho_packages/o.txt.etag", `"${etag}"`);
      expect((await ws.run("pull", "old")).stdout).toBe("Skipping: old\n");
      expect((await ws.run("pull", "old", "--force")).lines[0]).toBe(
        "Pulling: old 1.0 -> tycho_packages/o.txt",
      );
      expect(await readFile(join(ws.dir, "tycho_packages/o.txt"), "utf8")).toBe("hello");
    });

    it("yanks, deletes and describes versions without leaving latest dangling", async () => {
      await using env = await setup();
      const { ws } = env;
      await ws.run("init", "life", "life.txt");
      const file = await ws.file("l", "life");
      for (const version of ["1.0.0", "1.1.0", "2.0.0"])
        await ws.run("push", "life", version, file, "--promote-latest");
      const info = (await ws.run("info", "life", "2.0.0", "--json")).json();
      expect(info).toMatchObject({ size: 4, sha256: sha256("life"), pushedBy: "e2e@test", latest: true });
      expect(await ws.run("yank", "life", "2.0.0", "--reason", "bad build")).toMatchObject({
        code: 0,
        stdout: "Yanked: life, Version 2.0.0\n",
      });
      expect((await ws.run("list")).stdout).toBe("life -- Latest Version: 1.1.0\n");
      expect(await ws.run("promote", "life", "2.0.0")).toMatchObject({ code: exit.precondition });
      expect(await ws.run("delete", "life", "1.1.0")).toMatchObject({ code: 0 });
      expect((await ws.run("list")).stdout).toBe("life -- Latest Version: 1.0.0\n");
      expect((await ws.run("list-versions", "life")).stdout).toBe(
        "life Versions\n  - 1.0.0\n  - 2.0.0 (yanked)\n",
      );
      expect(await ws.run("delete", "life", "1.1.0")).toMatchObject({ code: exit.notFound });
      expect((await ws.run("info", "life")).lines).toEqual([
        "life",
        "  filename: life.txt",
        "  latest: 1.0.0",
        "  versions: 2 (1 yanked)",
      ]);
    });

    full("rejects bad input with one clear line and a non-zero exit, uploading nothing", async () => {
      await using env = await setup();
      const { ws } = env;
      const file = await ws.file("x", "x");
      const results = await Promise.all([
        ws.run("init", "../evil", "x"),
        ws.run("init", "ok", "../../etc/passwd"),
        ws.run("push", "ok", "1.0/../../x", file),
        ws.run("push", "ok", "latest", file),
        ws.run("push", "ok", "^1.0", file),
        ws.run("push", "ok", "1.0", join(ws.dir, "missing.bin")),
        ws.run("push", "never-initialised", "1.0", file, "--promote-latest"),
        ws.spawn("frobnicate"),
        ws.spawn("push", "only-one-arg"),
        ws.run("pull", "x", "--concurrency", "0"),
      ]);
      expect(results.map((result) => result.code)).toEqual([
        exit.usage,
        exit.usage,
        exit.usage,
        exit.usage,
        exit.usage,
        exit.notFound,
        exit.notFound,
        exit.usage,
        exit.usage,
        exit.usage,
      ]);
      for (const result of results) {
        expect(result.stdout).toBe("");
        expect(result.stderr.trim().split("\n").length).toBeLessThanOrEqual(2);
      }
      expect((await ws.run("list")).stdout).toBe("");
    });

    full("prints errors as JSON on stderr in --json mode", async () => {
      await using env = await setup();
      const result = await env.ws.run("pull", "ghost", "--json");
      expect(result.code).toBe(exit.notFound);
      expect(JSON.parse(result.stderr)).toEqual({
        error: { code: "NOT_FOUND", message: expect.any(String) },
      });
    });
  });
}

export type { Workspace };
