/**
 * The hosted CI workflow (.github/workflows/ci.yml) checks only what a pull request touches. Proven
 * here on a scratch copy of the repository: a commit to one app selects that app alone, a commit to
 * storage-driver selects it and every package that depends on it; and the workflow file is valid.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const bin = (name: string) => join(root, "node_modules/.bin", name);

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** Every workspace package, by name, with the workspace packages it depends on. */
function workspace(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const dir of ["apps", "packages"])
    for (const entry of readdirSync(join(root, dir))) {
      const manifest = JSON.parse(readFileSync(join(root, dir, entry, "package.json"), "utf8")) as Manifest;
      const deps = { ...manifest.dependencies, ...manifest.devDependencies };
      graph.set(
        manifest.name,
        Object.entries(deps)
          .filter(([, version]) => version.startsWith("workspace:"))
          .map(([name]) => name),
      );
    }
  return graph;
}

function dependentsOf(target: string): string[] {
  const graph = workspace();
  const reaches = (name: string, seen = new Set<string>()): boolean =>
    (graph.get(name) ?? []).some((dep) => {
      if (dep === target) return true;
      if (seen.has(dep)) return false;
      seen.add(dep);
      return reaches(dep, seen);
    });
  return [target, ...[...graph.keys()].filter((name) => reaches(name))].sort();
}

describe("CI selects what a change affects (turbo --affected)", () => {
  let repo: string;
  const git = (...args: string[]) =>
    execFileSync(
      "/usr/bin/git",
      ["-C", repo, "-c", "user.name=ci", "-c", "user.email=ci@example.org", ...args],
      {
        encoding: "utf8",
      },
    );

  beforeAll(() => {
    repo = mkdtempSync(join(tmpdir(), "wharf-affected-"));
    execFileSync("/usr/bin/git", ["clone", "--quiet", "--no-hardlinks", root, repo]);
    git("checkout", "--quiet", "-B", "main");
  });
  afterAll(() => rmSync(repo, { recursive: true, force: true }));

  /** Commits a one-line change to `file` on a branch off main; the packages and tasks CI would run. */
  function change(branch: string, file: string) {
    git("checkout", "--quiet", "-B", branch, "main");
    writeFileSync(join(repo, file), `${readFileSync(join(repo, file), "utf8")}\n// touched by ${branch}\n`);
    git("commit", "--quiet", "-am", `touch ${file}`);
    const env = { ...process.env, TURBO_SCM_BASE: "main", TURBO_TELEMETRY_DISABLED: "1" };
    const ls = JSON.parse(
      execFileSync(bin("turbo"), ["ls", "--affected", "--output", "json"], {
        cwd: repo,
        env,
        encoding: "utf8",
      }),
    ) as { packages: { items: Array<{ name: string }> } };
    const dry = JSON.parse(
      execFileSync(bin("turbo"), ["run", "typecheck", "test", "--affected", "--dry=json"], {
        cwd: repo,
        env,
        encoding: "utf8",
      }),
    ) as { tasks: Array<{ taskId: string; task: string; package: string }> };
    return {
      packages: ls.packages.items.map((p) => p.name).sort(),
      tested: [...new Set(dry.tasks.filter((t) => t.task === "test").map((t) => t.package))].sort(),
    };
  }

  it("a change to one app selects only that app", () => {
    const selected = change("touch-tycho", "apps/tycho/src/main.ts");
    expect(selected.packages).toEqual(["@wharf/tycho"]);
    expect(selected.tested).toEqual(["@wharf/tycho"]);
  });

  it("a change to storage-driver selects it and every package that depends on it", () => {
    const selected = change("touch-storage-driver", "packages/storage-driver/src/index.ts");
    const expected = dependentsOf("@wharf/storage-driver");
    expect(expected).toEqual(
      expect.arrayContaining(["@wharf/lfs-router", "@wharf/tycho", "@wharf/bitstore"]),
    );
    expect(selected.packages.filter((name) => name !== "@wharf/bench")).toEqual(expected);
    expect(selected.tested.filter((name) => name !== "@wharf/bench")).toEqual(
      expected.filter((name) => workspace().has(name)),
    );
  });
});

describe(".github/workflows/ci.yml", () => {
  const file = join(root, ".github/workflows/ci.yml");

  it("is a valid GitHub Actions workflow (action-validator)", () => {
    execFileSync(bin("action-validator"), [file], { stdio: "pipe" });
    const broken = join(mkdtempSync(join(tmpdir(), "wharf-workflow-")), "ci.yml");
    writeFileSync(broken, readFileSync(file, "utf8").replace("runs-on:", "runs_on:"));
    expect(() => execFileSync(bin("action-validator"), [broken], { stdio: "pipe" })).toThrow();
  });

  it("runs the affected selection on pull requests and everything on main", () => {
    const text = readFileSync(file, "utf8");
    expect(text).toContain("turbo ls --affected");
    expect(text).toMatch(/turbo run test \$\{\{ needs\.select\.outputs\.filter \}\}/);
    expect(text).toMatch(/push:\n\s+branches: \[main\]/);
  });
});

describe("versions and changelogs per app (changesets)", () => {
  it("a changeset bumps one app's version, writes its changelog and moves its image tag", () => {
    const repo = mkdtempSync(join(tmpdir(), "wharf-changeset-"));
    try {
      execFileSync("/usr/bin/git", ["clone", "--quiet", "--no-hardlinks", root, repo]);
      execFileSync("ln", ["-s", join(root, "node_modules"), join(repo, "node_modules")]);
      const before = JSON.parse(readFileSync(join(repo, "apps/lfs-router/package.json"), "utf8"))
        .version as string;
      const tycho = JSON.parse(readFileSync(join(repo, "apps/tycho/package.json"), "utf8")).version as string;
      writeFileSync(
        join(repo, ".changeset/lock-listing.md"),
        '---\n"@wharf/lfs-router": minor\n---\n\nLocks are listed by path prefix.\n',
      );
      execFileSync(bin("changeset"), ["version"], { cwd: repo, stdio: "pipe" });
      execFileSync(process.execPath, [join(repo, "infra/deploy/sync-image-tags.ts"), repo], {
        stdio: "pipe",
      });
      const [major, minor] = before.split(".").map(Number);
      const after = `${major}.${(minor ?? 0) + 1}.0`;
      expect(JSON.parse(readFileSync(join(repo, "apps/lfs-router/package.json"), "utf8")).version).toBe(
        after,
      );
      expect(JSON.parse(readFileSync(join(repo, "apps/tycho/package.json"), "utf8")).version).toBe(tycho);
      expect(readFileSync(join(repo, "apps/lfs-router/CHANGELOG.md"), "utf8")).toContain(
        "Locks are listed by path prefix.",
      );
      expect(readFileSync(join(repo, "deploy/k8s/lfs-router/kustomization.yaml"), "utf8")).toContain(
        `newTag: ${after}`,
      );
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
