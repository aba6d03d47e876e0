import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../packages/test-kit/src/fs.ts";
import { spawnServer } from "../../packages/test-kit/src/process.ts";

const root = resolve(import.meta.dirname, "../..");
const servers = ["bitstore", "ftps-gateway", "lfs-router", "registry-usage"];

/** The app's `start` script (`node [flags] entry`) run from `cwd`, its entry made absolute. */
function runStartScript(app: string, cwd: string, env: Record<string, string> = {}) {
  const pkg = JSON.parse(readFileSync(join(root, "apps", app, "package.json"), "utf8")) as {
    scripts: { start: string };
  };
  const [, ...args] = pkg.scripts.start.split(" ");
  const entry = args.pop() as string;
  return spawnServer({
    args: [...args, join(root, "apps", app, entry)],
    cwd,
    env: { WHARF_DEV: "", ...env },
  });
}

describe.each(servers)("%s, started by its start script", (app) => {
  it("reads settings from a .env file in the folder it starts in; the environment wins", async () => {
    await using dir = await tempDir("env-file-");
    writeFileSync(join(dir.path, ".env"), "# a typo to spot\nSTORAGE_URL=s4://from-dotenv\n");
    await using fromFile = runStartScript(app, dir.path);
    await using fromEnv = runStartScript(app, dir.path, { STORAGE_URL: "s4://from-environment" });
    expect([await fromFile.exited, await fromEnv.exited]).toEqual([2, 2]);
    expect(fromFile.stderr()).toMatch(/(STORAGE_URL|storage\.url): .*s4:\/\/from-dotenv/);
    expect(fromEnv.stderr()).toMatch(/(STORAGE_URL|storage\.url): .*s4:\/\/from-environment/);
  });
});
