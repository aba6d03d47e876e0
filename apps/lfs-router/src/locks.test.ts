import { createMemoryDriver } from "@wharf/storage-driver";
import { describe, expect, it } from "vitest";
import { createLayout } from "./layout.ts";
import { createLockStore } from "./locks.ts";
import { basic, harness, token } from "./test-support.ts";

interface LockJson {
  id: string;
  path: string;
  owner: { name: string };
  locked_at: string;
}

async function users() {
  return {
    alice: basic("alice", await token("alice", "org/repo:write")),
    bob: basic("bob", await token("bob", "org/repo:write")),
    admin: basic("root", await token("root", "org/repo:admin")),
    reader: basic("rita", await token("rita", "org/repo:read")),
  };
}

describe("locking API", () => {
  it("creates a lock, then answers 409 with the existing lock", async () => {
    const h = harness();
    const u = await users();
    const created = await h.call(
      "POST",
      "/org/repo/info/lfs/locks",
      { path: "a.bin", ref: { name: "refs/heads/main" } },
      u.alice,
    );
    expect(created.status).toBe(201);
    const { lock } = (await created.json()) as { lock: LockJson };
    expect(lock).toMatchObject({ path: "a.bin", owner: { name: "alice" } });
    const again = await h.call("POST", "/org/repo/info/lfs/locks", { path: "a.bin" }, u.bob);
    expect(again.status).toBe(409);
    expect(await again.json()).toEqual({ lock, message: expect.any(String), request_id: expect.any(String) });
  });

  it("lets exactly one of many concurrent lockers of a path win", async () => {
    const store = createLockStore(createMemoryDriver(), createLayout(""));
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => store.create("org/repo", "x.psd", `user${i}`)),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(
      results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason.code),
    ).toEqual(Array(7).fill("ALREADY_EXISTS"));
  });

  it("lists locks with path and id filters and pages with a cursor", async () => {
    const h = harness();
    const u = await users();
    const ids: string[] = [];
    for (const path of ["a", "b", "c", "d", "e"]) {
      const res = await h.call("POST", "/org/repo/info/lfs/locks", { path }, u.alice);
      ids.push(((await res.json()) as { lock: LockJson }).lock.id);
    }
    const byPath = (await (
      await h.call("GET", "/org/repo/info/lfs/locks?path=c", undefined, u.reader)
    ).json()) as { locks: LockJson[] };
    expect(byPath.locks.map((l) => l.path)).toEqual(["c"]);
    const byId = (await (
      await h.call("GET", `/org/repo/info/lfs/locks?id=${ids[3]}`, undefined, u.reader)
    ).json()) as { locks: LockJson[] };
    expect(byId.locks.map((l) => l.path)).toEqual(["d"]);

    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const res = await h.call(
        "GET",
        `/org/repo/info/lfs/locks?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        undefined,
        u.reader,
      );
      const body = (await res.json()) as { locks: LockJson[]; next_cursor?: string };
      expect(body.locks.length).toBeLessThanOrEqual(2);
      seen.push(...body.locks.map((l) => l.path));
      cursor = body.next_cursor;
      if (!cursor) break;
    }
    expect(seen.sort()).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("filters by refspec", async () => {
    const h = harness();
    const u = await users();
    await h.call(
      "POST",
      "/org/repo/info/lfs/locks",
      { path: "main.bin", ref: { name: "refs/heads/main" } },
      u.alice,
    );
    await h.call(
      "POST",
      "/org/repo/info/lfs/locks",
      { path: "dev.bin", ref: { name: "refs/heads/dev" } },
      u.alice,
    );
    const res = await h.call("GET", "/org/repo/info/lfs/locks?refspec=refs/heads/dev", undefined, u.reader);
    expect(((await res.json()) as { locks: LockJson[] }).locks.map((l) => l.path)).toEqual(["dev.bin"]);
  });

  it("splits verify results into ours and theirs", async () => {
    const h = harness();
    const u = await users();
    await h.call("POST", "/org/repo/info/lfs/locks", { path: "mine" }, u.alice);
    await h.call("POST", "/org/repo/info/lfs/locks", { path: "yours" }, u.bob);
    const res = await h.call(
      "POST",
      "/org/repo/info/lfs/locks/verify",
      { ref: { name: "refs/heads/main" } },
      u.alice,
    );
    const body = (await res.json()) as { ours: LockJson[]; theirs: LockJson[] };
    expect(body.ours.map((l) => l.path)).toEqual(["mine"]);
    expect(body.theirs.map((l) => l.path)).toEqual(["yours"]);
  });

  it("refuses verify and lock for a read-only token with 403", async () => {
    const h = harness();
    const u = await users();
    expect((await h.call("POST", "/org/repo/info/lfs/locks/verify", {}, u.reader)).status).toBe(403);
    expect((await h.call("POST", "/org/repo/info/lfs/locks", { path: "a" }, u.reader)).status).toBe(403);
  });

  it("unlocks only the owner's lock unless an admin forces it, then allows relocking", async () => {
    const h = harness();
    const u = await users();
    const res = await h.call("POST", "/org/repo/info/lfs/locks", { path: "a.psd" }, u.alice);
    const { lock } = (await res.json()) as { lock: LockJson };
    const unlock = (auth: string, force: boolean) =>
      h.call("POST", `/org/repo/info/lfs/locks/${lock.id}/unlock`, { force }, auth);
    expect((await unlock(u.bob, false)).status).toBe(403);
    expect((await unlock(u.bob, true)).status).toBe(403);
    const forced = await unlock(u.admin, true);
    expect(forced.status).toBe(200);
    expect(((await forced.json()) as { lock: LockJson }).lock.id).toBe(lock.id);
    expect((await unlock(u.alice, false)).status).toBe(404);
    expect((await h.call("POST", "/org/repo/info/lfs/locks", { path: "a.psd" }, u.bob)).status).toBe(201);
  });

  it("answers 404 for an unknown lock id", async () => {
    const h = harness();
    const u = await users();
    const res = await h.call("POST", `/org/repo/info/lfs/locks/${"a".repeat(52)}/unlock`, {}, u.alice);
    expect(res.status).toBe(404);
  });

  it("hides the locking API (404) when locking is disabled", async () => {
    const h = harness({ locking: false });
    const u = await users();
    expect((await h.call("POST", "/org/repo/info/lfs/locks/verify", {}, u.alice)).status).toBe(404);
  });
});
