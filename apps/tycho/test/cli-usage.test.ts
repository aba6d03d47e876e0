import { execFile } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import packageJson from "../package.json" with { type: "json" };
import { workspace } from "./harness.ts";

const repoRoot = new URL("../../../", import.meta.url).pathname;

describe("tycho's command line, as a user types it", () => {
  it("refuses a named config file that does not exist (exit 2) instead of pushing to the default folder", async () => {
    // Bug: `--config ./typo.json` and TYCHO_CONFIG=typo.json fell back to ~/.local/share/tycho, exit 0.
    await using ws = await workspace({});
    const file = await ws.file("f", "f");
    const flag = await ws.run("push", "p", "1.0", file, "--config", "./typo.json");
    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe(`Config file not found: ${join(ws.dir, "typo.json")} (named by --config)\n`);
    const env = await ws.runWith({ TYCHO_CONFIG: "typo.json" }, "init", "p", "p.txt");
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/^Config file not found: .*typo\.json \(named by TYCHO_CONFIG\)\n$/);
    await expect(stat(join(ws.dir, ".local"))).rejects.toThrow();
  });

  it("says on stderr which folder it uses when nothing names a registry", async () => {
    await using ws = await workspace({});
    const result = await ws.run("init", "p", "p.txt");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("Initialized: p\n");
    const folder = join(ws.dir, ".local/share/tycho");
    expect(result.stderr).toBe(
      `Note: no .tychoreg.json here and no TYCHO_STORAGE_URL: using the registry folder ${folder}\n`,
    );
    expect(JSON.parse(await readFile(join(folder, "p/tycho.json"), "utf8"))).toEqual({
      localname: "p.txt",
      latest: null,
    });
    const named = await ws.runWith({ TYCHO_STORAGE_URL: join(ws.dir, "reg") }, "list");
    expect(named.stderr).not.toContain("Note:");
    await ws.file(".tychoreg.json", JSON.stringify({ tycho: { outdir: "out" } }));
    expect((await ws.run("list")).stderr).toBe(
      `Note: ${join(ws.dir, ".tychoreg.json")} names no registry and no TYCHO_STORAGE_URL: using the registry folder ${folder}\n`,
    );
  });

  it("takes the global options before or after the command", async () => {
    // Bug: `tycho --json info zort` said "unknown option '--json'".
    await using ws = await workspace({ env: { TYCHO_STORAGE_URL: "reg" } });
    await ws.run("init", "zort", "zort.txt");
    const before = await ws.spawn("--json", "info", "zort");
    const after = await ws.spawn("info", "zort", "--json");
    expect(before.code).toBe(0);
    expect(before.json()).toEqual(after.json());
    expect(before.json()).toMatchObject({ pkg: "zort", localname: "zort.txt" });
    await ws.file("other.json", JSON.stringify({ local: { path: "other" } }));
    expect((await ws.run("--config", "other.json", "--json", "list")).stderr).toBe("");
    const missing = await ws.spawn("--config", "nope.json", "list");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^Config file not found: .*nope\.json/);
  });

  it("prints its version, and pull keeps --version for the package version", async () => {
    // Bug: there was no `tycho --version`.
    await using ws = await workspace({ env: { TYCHO_STORAGE_URL: "reg" } });
    for (const flag of ["--version", "-V"])
      expect(await ws.spawn(flag)).toMatchObject({ code: 0, stdout: `${packageJson.version}\n` });
    await ws.run("init", "p", "p.txt");
    await ws.run("push", "p", "1.0", await ws.file("src", "one"));
    const pulled = await ws.run("pull", "p", "--version", "1.0");
    expect(pulled.lines[0]).toBe("Pulling: p 1.0 -> tycho_packages/p.txt");
  });

  it("documents the registry location, TYCHO_STORAGE_URL and the exit codes in --help", async () => {
    await using ws = await workspace({});
    const help = await ws.spawn("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("TYCHO_STORAGE_URL");
    expect(help.stdout).toContain("~/.local/share/tycho");
    expect(help.stdout).toMatch(
      /Exit codes:\n {2}0 {4}success\n {2}1 {4}INTERNAL\n {2}2 {4}INVALID_ARGUMENT/,
    );
    expect(help.stdout).toMatch(/\n {2}130 {2}CANCELLED\n/);
  });

  it("runs `./wharf tycho` and `pnpm tycho` in the caller's folder, with its .tychoreg.json and files", async () => {
    // Bug: both ran in the repository root, ignoring ./.tychoreg.json and resolving FILE there.
    await using ws = await workspace({ config: { local: { path: "reg" } } });
    await ws.file("f.txt", "from the caller");
    const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? ws.dir };
    const wharf = (...args: string[]) =>
      promisify(execFile)(join(repoRoot, "wharf"), ["tycho", ...args], { cwd: ws.dir, env });
    expect((await wharf("init", "p", "p.txt")).stdout).toBe("Initialized: p\n");
    await wharf("push", "p", "1.0", "f.txt", "--promote-latest");
    expect(await readFile(join(ws.dir, "reg/p/tycho_1.0.pkg"), "utf8")).toBe("from the caller");
    const pnpm = await promisify(execFile)("pnpm", ["-s", "--dir", repoRoot, "tycho", "list"], {
      cwd: ws.dir,
      env,
    });
    expect(pnpm.stdout).toBe("p -- Latest Version: 1.0\n");
  });

  it("prints pull's lines below the finished bar, which shows the rate and the ETA", async () => {
    // Bug: `File Hash: "…"` was printed over the progress bar, and the bar had no rate or ETA.
    await using ws = await workspace({ env: { TYCHO_STORAGE_URL: "reg" } });
    await ws.run("init", "p", "p.bin");
    await ws.run(
      "push",
      "p",
      "1.0",
      await ws.file("src", Buffer.alloc(9 * 1024 * 1024, 1)),
      "--promote-latest",
    );
    const { code, screen } = await ws.runOnTerminal("pull", "p");
    expect(code).toBe(0);
    expect(screen).toEqual([
      "Pulling: p 1.0 -> tycho_packages/p.bin",
      expect.stringMatching(/^p 1\.0 \[█+\] 100% \| 9\.0\/9\.0 MiB \| \d+\.\d MiB\/s \| ETA \d+s$/),
      expect.stringMatching(/^File Hash: ".+"$/),
    ]);
  });

  it("keeps pull-list's lines and bars apart while several bars run", async () => {
    await using ws = await workspace({ env: { TYCHO_STORAGE_URL: "reg" } });
    for (const pkg of ["a", "b", "c"]) {
      await ws.run("init", pkg, `${pkg}.bin`);
      await ws.run(
        "push",
        pkg,
        "1.0",
        await ws.file(pkg, Buffer.alloc(6 * 1024 * 1024, 2)),
        "--promote-latest",
      );
    }
    const { code, screen } = await ws.runOnTerminal("pull-list", "a", "b", "c", "--jobs", "3");
    expect(code).toBe(0);
    const messages = screen.filter((line) => !/ \[.*\] \d+% /.test(line) && line !== "");
    expect(messages).toEqual(
      ["a", "b", "c"].flatMap((pkg) => [
        `Pulling: ${pkg} 1.0 -> tycho_packages/${pkg}.bin`,
        expect.stringMatching(/^File Hash: ".+"$/),
      ]),
    );
    expect(screen.filter((line) => / \[█+\] 100% /.test(line))).toHaveLength(3);
  });

  it("removes a leftover partial download when the file is already up to date", async () => {
    // Bug: a pull that skipped left a `.tycho-partial` (90 MB in the report) behind.
    await using ws = await workspace({ env: { TYCHO_STORAGE_URL: "reg" } });
    await ws.run("init", "p", "p.bin");
    await ws.run("push", "p", "1.0", await ws.file("src", "one"), "--promote-latest");
    await ws.run("pull", "p");
    await ws.file("tycho_packages/p.bin.tycho-partial", "left from an interrupted pull");
    await ws.file("tycho_packages/p.bin.tycho-partial.json", "{}");
    expect(await ws.run("pull", "p")).toMatchObject({ code: 0, stdout: "Skipping: p\n" });
    await expect(stat(join(ws.dir, "tycho_packages/p.bin.tycho-partial"))).rejects.toThrow();
    await expect(stat(join(ws.dir, "tycho_packages/p.bin.tycho-partial.json"))).rejects.toThrow();
  });
});
