import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

// Issue 26: one file-transfer core with two protocol front-ends beside each other. Front-ends import
// the core and never each other, the core imports no front-end, and nothing imports in a circle.

type Graph = ReadonlyMap<string, readonly string[]>;

/** Every module under `root` (tests included) with the modules under `root` it imports, by relative path. */
async function importGraph(root: string): Promise<Map<string, string[]>> {
  const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith(".ts")).sort();
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = await readFile(join(root, file), "utf8");
    // TypeScript's own scanner: static imports and re-exports, `import type`, and `import()`.
    const { importedFiles } = ts.preProcessFile(text, true, true);
    const targets = importedFiles
      .map(({ fileName }) => fileName)
      .filter((name) => name.startsWith("."))
      .map((name) => relative(root, resolve(root, dirname(file), name)));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Each import circle once, as the path around it (`a.ts -> b.ts -> a.ts`). */
function importCircles(graph: Graph): string[] {
  const circles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const target of graph.get(file) ?? []) {
      if (state.get(target) === "open")
        circles.push([...stack.slice(stack.indexOf(target)), target].join(" -> "));
      else if (!state.has(target) && graph.has(target)) visit(target);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return circles;
}

/** The part of the app a module belongs to: `core`, `ftp`, `sftp`, or `top` (main, serve, app wiring). */
const partOf = (file: string) => (/^(core|ftp|sftp)\//.exec(file)?.[1] ?? "top") as Part;
type Part = "core" | "ftp" | "sftp" | "top";

/** What each part may import besides itself. */
const allowed: Readonly<Record<Part, readonly Part[]>> = {
  core: [],
  ftp: ["core"],
  sftp: ["core"],
  top: ["core", "ftp", "sftp"],
};

/** Imports that cross the layout: `ftp/a.ts -> sftp/b.ts`. */
function layoutViolations(graph: Graph): string[] {
  const found: string[] = [];
  for (const [file, targets] of graph)
    for (const target of targets) {
      const [from, to] = [partOf(file), partOf(target)];
      if (from !== to && !allowed[from].includes(to)) found.push(`${file} -> ${target}`);
    }
  return found;
}

describe("the gateway's module layout", () => {
  it("has no import circle", async () => {
    const graph = await importGraph(import.meta.dirname);
    expect(graph.size).toBeGreaterThan(40);
    expect(importCircles(graph)).toEqual([]);
  });

  it("keeps ftp/ and sftp/ apart, on a core that imports neither", async () => {
    const graph = await importGraph(import.meta.dirname);
    expect([...graph.keys()].filter((file) => partOf(file) === "core").length).toBeGreaterThan(10);
    expect(layoutViolations(graph)).toEqual([]);
  });

  it("reports circles and crossings (checked on a made-up graph)", () => {
    const graph = new Map([
      ["main.ts", ["ftp/session.ts"]],
      ["ftp/session.ts", ["ftp/commands.ts", "core/vfs.ts"]],
      ["ftp/commands.ts", ["ftp/session.ts", "sftp/status.ts"]],
      ["sftp/status.ts", []],
      ["core/vfs.ts", ["ftp/replies.ts"]],
      ["ftp/replies.ts", []],
    ]);
    expect(importCircles(graph)).toEqual(["ftp/session.ts -> ftp/commands.ts -> ftp/session.ts"]);
    expect(layoutViolations(graph)).toEqual([
      "ftp/commands.ts -> sftp/status.ts",
      "core/vfs.ts -> ftp/replies.ts",
    ]);
  });
});
