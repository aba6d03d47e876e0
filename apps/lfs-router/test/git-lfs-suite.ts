import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createIssuer } from "@wharf/auth-jwt";
import { type RunningServer, serveHttp } from "@wharf/http-kit";
import type { StorageDriver } from "@wharf/storage-driver";
import { type TempDir, tempDir } from "@wharf/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { nodeFetch } from "../src/http.ts";
import { probeSha256Enforcement } from "../src/probe.ts";
import { testConfig } from "../src/test-support.ts";
import { type GitUser, gitUser, initRepo, sha256File, writeFileOfSize } from "./git.ts";

export interface GitLfsSuiteOptions {
  readonly name: string;
  /** The store under test, and how to release it. */
  readonly openStore: () => Promise<{ driver: StorageDriver; dispose: () => Promise<void> }>;
  readonly mode: "direct" | "proxy";
  readonly largeFileBytes: number;
  /** A second S3 implementation, run for what differs: push/clone and locking only. */
  readonly lean?: boolean;
}

const issuer = createIssuer({ algorithm: "HS256", secret: testConfig().jwt.secret });
const pastIssuer = createIssuer({
  algorithm: "HS256",
  secret: testConfig().jwt.secret,
  now: () => new Date(Date.now() - 2 * 3600_000),
});
/** A token for `username`; `expired` mints one that expired an hour ago. */
const mint = (username: string, scope: string, expired = false) =>
  (expired ? pastIssuer : issuer).issue({ username, scope }, { expiresIn: "1h" });

/** End-to-end runs of the real git-lfs client against the router on one store and transfer mode. */
export function gitLfsSuite(options: GitLfsSuiteOptions): void {
  const full = options.lean ? it.skip : it;
  describe(`git-lfs end to end (${options.name})`, () => {
    let dir: TempDir;
    let driver: StorageDriver;
    let disposeStore: (() => Promise<void>) | undefined;
    let server: RunningServer;
    let root: string;
    const users: Record<string, GitUser> = {};
    const lfsUrl = (repo: string) => `${server.url}/${repo}/info/lfs`;
    const remote = (repo: string) => join(root, "remotes", `${repo.replace("/", "__")}.git`);
    const key = (repo: string, oid: string) => `${repo}/${oid.slice(0, 2)}/${oid.slice(2, 4)}/${oid}`;

    beforeAll(async () => {
      dir = await tempDir("lfs-e2e-");
      root = dir.path;
      const store = await options.openStore();
      driver = store.driver;
      disposeStore = store.dispose;
      const storeEnforcesSha256 =
        options.mode === "direct" ? await probeSha256Enforcement(driver, "") : false;
      const app = createApp({ config: testConfig(), driver, mode: options.mode, storeEnforcesSha256 });
      server = await serveHttp(nodeFetch(app), { port: 0, host: "127.0.0.1" });
      const grants: Record<string, [string, boolean]> = {
        alice: ["org/*:write", false],
        bob: ["org/*:write", false],
        rita: ["org/*:read", false],
        eve: ["org/*:write", true],
      };
      for (const [name, [scope, expired]] of Object.entries(grants))
        users[name] = await gitUser(root, name, server.url, await mint(name, scope, expired));
      users.mallory = await gitUser(root, "mallory", server.url, `${await mint("mallory", "org/*:write")}x`);
    }, 60_000);

    afterAll(async () => {
      await server?.close(1000);
      await disposeStore?.();
      await dir?.[Symbol.asyncDispose]();
    });

    async function newRepo(repo: string, owner: GitUser, files: Record<string, number>) {
      const bare = remote(repo);
      await owner.ok(["init", "-q", "--bare", bare], root);
      const work = join(root, `work-${owner.name}-${repo.replace("/", "__")}`);
      await initRepo(owner, work, bare, lfsUrl(repo));
      const hashes: Record<string, string> = {};
      for (const [file, size] of Object.entries(files))
        hashes[file] = await writeFileOfSize(join(work, file), size, `${repo}/${file}`);
      await owner.ok(["add", "."], work);
      await owner.ok(["commit", "-q", "-m", "first"], work);
      await owner.ok(["push", "-q", "-u", "origin", "main"], work);
      return { bare, work, hashes };
    }

    async function cloneAs(user: GitUser, repo: string, name: string, env: Record<string, string> = {}) {
      const target = join(root, name);
      const result = await user.run(["clone", "-q", remote(repo), target], root, env);
      if (result.code === 0) await user.ok(["lfs", "install", "--local"], target);
      return { target, result };
    }

    it("pushes, clones, fetches and pulls LFS files in several repositories and branches", async () => {
      const alice = users.alice as GitUser;
      const bob = users.bob as GitUser;
      for (const repo of ["org/one", "org/two"]) {
        const { work, hashes } = await newRepo(repo, alice, {
          "small.bin": 1024,
          "mid.bin": 1024 * 1024 + 3,
        });
        await alice.ok(["checkout", "-q", "-b", "feature"], work);
        hashes["feature.bin"] = await writeFileOfSize(
          join(work, "feature.bin"),
          64 * 1024,
          `${repo}/feature`,
        );
        await alice.ok(["add", "feature.bin"], work);
        await alice.ok(["commit", "-q", "-m", "feature"], work);
        await alice.ok(["push", "-q", "-u", "origin", "feature"], work);
        for (const [file, oid] of Object.entries(hashes))
          expect((await driver.head(key(repo, oid))).etag, file).toBeTruthy();

        const { target, result } = await cloneAs(bob, repo, `clone-bob-${repo.replace("/", "__")}`);
        expect(result.code, result.stderr).toBe(0);
        expect(await sha256File(join(target, "small.bin"))).toBe(hashes["small.bin"]);
        expect(await sha256File(join(target, "mid.bin"))).toBe(hashes["mid.bin"]);

        const lazy = await cloneAs(bob, repo, `lazy-bob-${repo.replace("/", "__")}`, {
          GIT_LFS_SKIP_SMUDGE: "1",
        });
        expect(
          (await readFile(join(lazy.target, "mid.bin"), "utf8")).startsWith("version https://git-lfs"),
        ).toBe(true);
        await bob.ok(["lfs", "fetch", "origin", "origin/feature"], lazy.target);
        await bob.ok(["checkout", "-q", "feature"], lazy.target, { GIT_LFS_SKIP_SMUDGE: "1" });
        await bob.ok(["lfs", "pull"], lazy.target);
        expect(await sha256File(join(lazy.target, "feature.bin"))).toBe(hashes["feature.bin"]);
        expect(await sha256File(join(lazy.target, "mid.bin"))).toBe(hashes["mid.bin"]);
      }
    });

    full(`round-trips a ${Math.round(options.largeFileBytes / 1024 / 1024)} MiB file`, async () => {
      const alice = users.alice as GitUser;
      const { hashes } = await newRepo("org/large", alice, { "large.bin": options.largeFileBytes });
      const { target, result } = await cloneAs(users.bob as GitUser, "org/large", "clone-large");
      expect(result.code, result.stderr).toBe(0);
      expect(await sha256File(join(target, "large.bin"))).toBe(hashes["large.bin"]);
    });

    full("accepts concurrent pushes of the same objects", async () => {
      const alice = users.alice as GitUser;
      const bob = users.bob as GitUser;
      await newRepo("org/race", alice, { "seed.bin": 2048 });
      const { target } = await cloneAs(bob, "org/race", "race-bob");
      const aliceWork = join(root, "race-alice");
      await alice.ok(["clone", "-q", remote("org/race"), aliceWork], root);
      await alice.ok(["lfs", "install", "--local"], aliceWork);
      const shared: string[] = [];
      for (const [user, work] of [
        [alice, aliceWork],
        [bob, target],
      ] as const) {
        await user.ok(["checkout", "-q", "-b", `branch-${user.name}`], work);
        for (let i = 0; i < 3; i++)
          shared[i] = await writeFileOfSize(join(work, `same-${i}.bin`), 3 * 1024 * 1024, `same-${i}`);
        await user.ok(["add", "."], work);
        await user.ok(["commit", "-q", "-m", `from ${user.name}`], work);
      }
      const results = await Promise.all([
        alice.run(["push", "-q", "origin", "branch-alice"], aliceWork),
        bob.run(["push", "-q", "origin", "branch-bob"], target),
      ]);
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      for (const oid of shared) expect((await driver.head(key("org/race", oid))).size).toBe(3 * 1024 * 1024);
    });

    full("refuses a push with a wrong password and leaves the remote unchanged", async () => {
      const alice = users.alice as GitUser;
      const mallory = users.mallory as GitUser;
      await newRepo("org/guarded", alice, { "a.bin": 100 });
      const before = await alice.ok(["ls-remote", remote("org/guarded"), "main"], root);
      const work = join(root, "mallory-guarded");
      await initRepo(mallory, work, remote("org/guarded"), lfsUrl("org/guarded"));
      await writeFileOfSize(join(work, "evil.bin"), 100, "evil");
      await mallory.ok(["add", "."], work);
      await mallory.ok(["commit", "-q", "-m", "evil"], work);
      const push = await mallory.run(["push", "-q", "-f", "origin", "main"], work);
      expect(push.code).not.toBe(0);
      expect(await alice.ok(["ls-remote", remote("org/guarded"), "main"], root)).toBe(before);
    });

    full(
      "lets a read-only token clone but refuses its push (403), and refuses an expired token",
      async () => {
        await newRepo("org/ro", users.alice as GitUser, { "a.bin": 100 });
        for (const name of ["rita", "eve"]) {
          const user = users[name] as GitUser;
          const { target, result } = await cloneAs(user, "org/ro", `ro-${name}`);
          if (name === "rita") expect(result.code, result.stderr).toBe(0);
          else {
            expect(result.code).not.toBe(0);
            continue;
          }
          await writeFileOfSize(join(target, "b.bin"), 100, `ro-${name}`);
          await user.ok(["add", "."], target);
          await user.ok(["commit", "-q", "-m", "try"], target);
          const push = await user.run(["push", "origin", "main"], target);
          expect(push.code).not.toBe(0);
          expect(push.stderr).toMatch(/403|[Ff]orbidden|may not/);
        }
      },
    );

    it("locks with git lfs lock/locks/unlock and refuses a push over another user's lock", async (ctx) => {
      ctx.skip(!driver.capabilities.conditionalWrite, "the store has no conditional writes: no locking");
      const alice = users.alice as GitUser;
      const bob = users.bob as GitUser;
      const { work } = await newRepo("org/locked", alice, { "art.bin": 4096 });
      const { target } = await cloneAs(bob, "org/locked", "locked-bob");
      await alice.ok(["lfs", "lock", "art.bin"], work);
      expect(await bob.ok(["lfs", "locks"], target)).toMatch(/art\.bin\s+alice/);
      expect((await bob.run(["lfs", "lock", "art.bin"], target)).code).not.toBe(0);

      await bob.ok(["lfs", "install", "--local"], target);
      await writeFile(join(target, "art.bin"), "bob's edit");
      await bob.ok(["add", "."], target, { GIT_LFS_SET_LOCKABLE_READONLY: "0" });
      await bob.ok(["commit", "-q", "-m", "edit"], target);
      const refused = await bob.run(["push", "origin", "main"], target);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/lock/i);

      await alice.ok(["lfs", "unlock", "art.bin"], work);
      expect((await bob.ok(["lfs", "locks"], target)).trim()).toBe("");
      const pushed = await bob.run(["push", "origin", "main"], target);
      expect(pushed.code, pushed.stderr).toBe(0);
    });

    it("answers 404 to the locking API on a store without conditional writes, and pushes go through", async (ctx) => {
      // Regression (issue 21 §3): on Swift the router mounted the lock routes and answered 500.
      ctx.skip(driver.capabilities.conditionalWrite, "the store has conditional writes: locking works");
      const alice = users.alice as GitUser;
      const { work } = await newRepo("org/unlockable", alice, { "art.bin": 4096 });
      const lock = await alice.run(["lfs", "lock", "art.bin"], work);
      expect(lock.code).not.toBe(0);
      expect(lock.stderr).not.toMatch(/500|Internal/i);
      const response = await fetch(`${lfsUrl("org/unlockable")}/locks`, {
        headers: { authorization: `Bearer ${await mint("alice", "org/*:write")}` },
      });
      expect(response.status).toBe(404);
      await writeFile(join(work, "art.bin"), "an edit nobody could lock");
      await alice.ok(["add", "."], work);
      await alice.ok(["commit", "-q", "-m", "edit"], work);
      const pushed = await alice.run(["push", "origin", "main"], work);
      expect(pushed.code, pushed.stderr).toBe(0);
    });
  });
}
