import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Issue 25: apps decide by `driver.capabilities`, never by which driver or URL scheme it is; a new
// driver must not silently get another driver's behaviour.
const root = fileURLToPath(new URL("../../../", import.meta.url));

/** A driver's identity compared or switched on: `driver.name === "s3"`, `switch (storage.name)`. */
const byName =
  /\b(?:driver|storage|store)\.name\s*[!=]==|[!=]==\s*(?:\w+\.)*(?:driver|storage|store)\.name\b|switch\s*\(\s*(?:\w+\.)*(?:driver|storage|store)\.name\b/;
/** A storage URL's kind compared: `parsed.kind === "s3"`, `storage.kind !== "fs"`. */
const byKind = /\.kind\s*[!=]==\s*"(?:s3|fs|memory|file)"/;

/** Known exceptions, each with why and where it is tracked. */
const allowed: Readonly<Record<string, string>> = {};

async function sources(): Promise<string[]> {
  const files: string[] = [];
  for (const app of await readdir(join(root, "apps"))) {
    const src = join(root, "apps", app, "src");
    for (const entry of await readdir(src, { recursive: true }).catch(() => [] as string[])) {
      if (entry.endsWith(".ts") && !entry.endsWith(".test.ts")) files.push(join(src, entry));
    }
  }
  return files;
}

describe("apps decide by capabilities", () => {
  it("no app compares a driver's name or a storage URL's kind to choose behaviour", async () => {
    const files = await sources();
    expect(files.length).toBeGreaterThan(20);
    const found: string[] = [];
    const stillNeeded = new Set<string>();
    for (const file of files) {
      const path = relative(root, file);
      const lines = (await readFile(file, "utf8")).split("\n");
      lines.forEach((line, index) => {
        if (!byName.test(line) && !byKind.test(line)) return;
        if (!byName.test(line) && allowed[path]) stillNeeded.add(path);
        else found.push(`${path}:${index + 1}: ${line.trim()}`);
      });
    }
    expect(found).toEqual([]);
    // An exception that no longer matches anything must leave the list.
    expect([...stillNeeded].sort()).toEqual(Object.keys(allowed).sort());
  });

  it("catches the checks it is meant to catch", () => {
    for (const line of [
      'deps.driver.name === "s3"',
      'const canPresign = driver.capabilities.presign && driver.name !== "fs";',
      'if ("s3" === storage.name) {',
      "switch (driver.name) {",
      'config.storage.kind === "s3" ? a : b',
    ])
      expect(byName.test(line) || byKind.test(line), line).toBe(true);
    for (const line of ['logger.info({ storage: driver.name }, "listening")', 'if (plan.kind === "passive")'])
      expect(byName.test(line) || byKind.test(line), line).toBe(false);
  });
});
