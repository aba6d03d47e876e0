import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { workspace } from "./harness.ts";
import { cliSuite } from "./suite.ts";

cliSuite("a local folder", {
  md5Etags: false,
  async create() {
    const root = await mkdtemp(join(tmpdir(), "tycho-reg-"));
    const path = (key: string) => join(root, ...key.split("/"));
    return {
      config: { tycho: { backend: "local" }, local: { path: root } },
      raw: {
        async put(key, body) {
          await mkdir(dirname(path(key)), { recursive: true });
          // In place, as damage on disk would be: the driver's sidecar still describes the old bytes.
          await writeFile(path(key), body);
        },
        get: (key) => readFile(path(key)),
        metadata: async () => ({}),
      },
      [Symbol.asyncDispose]: () => rm(root, { recursive: true, force: true }),
    };
  },
});

describe("tycho configuration", () => {
  it("fails with one line and exit 2 on a malformed config file", async () => {
    await using ws = await workspace({});
    await ws.file(".tychoreg.json", "{ not json");
    const result = await ws.spawn("list");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^Invalid config .*\.tychoreg\.json: not valid JSON/);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("lists every config problem at once", async () => {
    await using ws = await workspace({
      config: { tycho: { backend: "s3", concurrency: 0 }, s3: { region_name: "x" } },
    });
    const result = await ws.run("list");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/tycho\.concurrency.*s3\.bucket/);
  });

  it("uses TYCHO_STORAGE_URL and loads tycho.dotenv before resolving env references", async () => {
    await using ws = await workspace({
      config: { tycho: { dotenv: "vars.env", outdir: { env: "OUT", default: "x" } } },
    });
    await ws.file("vars.env", "OUT=from-dotenv\n");
    const env = { TYCHO_STORAGE_URL: join(ws.dir, "reg") };
    await ws.runWith(env, "init", "p", "p.txt");
    await ws.runWith(env, "push", "p", "1", await ws.file("p", "p"), "--promote-latest");
    expect((await ws.runWith(env, "pull", "p")).lines[0]).toBe("Pulling: p 1 -> from-dotenv/p.txt");
  });
});
