import { describe, expect, it } from "vitest";
import { basic, blob, harness, token } from "./test-support.ts";

/** Deterministic PRNG (mulberry32), so a failing case can be replayed from its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  return { next, int, pick };
}

type Rng = ReturnType<typeof rng>;
const weird = [
  "",
  " ",
  "\u0000",
  "\ud800",
  "💥",
  "../../etc/passwd",
  "%00",
  "a".repeat(5000),
  "null",
  "{",
  "[]",
  "refs/heads/main",
];

function value(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 3 ? 6 : 9)) {
    case 0:
      return null;
    case 1:
      return r.pick([true, false]);
    case 2:
      return r.pick([0, -1, 1.5, 2 ** 53, -(2 ** 63), Number.MAX_VALUE, 1e308]);
    case 3:
      return r.pick(weird);
    case 4:
      return blob(String(r.int(1000))).oid;
    case 5:
      return r.pick(["upload", "download", "sha256", "basic"]);
    case 6:
      return Array.from({ length: r.int(4) }, () => value(r, depth + 1));
    default: {
      const keys = [
        "operation",
        "objects",
        "oid",
        "size",
        "ref",
        "name",
        "transfers",
        "hash_algo",
        "path",
        "force",
        "cursor",
        "limit",
        "x",
      ];
      return Object.fromEntries(Array.from({ length: r.int(5) }, () => [r.pick(keys), value(r, depth + 1)]));
    }
  }
}

/** A batch body broken in one random way: wrong types, missing fields, bad JSON, stray bytes. */
function malformedBatch(r: Rng): string {
  const valid = {
    operation: "upload",
    objects: [{ oid: blob("x").oid, size: 1 }],
    ref: { name: "refs/heads/main" },
  };
  switch (r.int(6)) {
    case 0:
      return JSON.stringify(value(r));
    case 1:
      return JSON.stringify({
        ...valid,
        [r.pick(["operation", "objects", "ref", "transfers", "hash_algo"])]: value(r),
      });
    case 2:
      return JSON.stringify({ ...valid, objects: [value(r), value(r)] });
    case 3: {
      const text = JSON.stringify(valid);
      return text.slice(0, r.int(text.length));
    }
    case 4:
      return Buffer.from(Array.from({ length: r.int(64) }, () => r.int(256))).toString("latin1");
    default:
      return JSON.stringify({ ...valid, objects: { length: 1 } });
  }
}

function malformedLock(r: Rng): string {
  switch (r.int(4)) {
    case 0:
      return JSON.stringify(value(r));
    case 1:
      return JSON.stringify({ path: value(r), ref: value(r) });
    case 2:
      return JSON.stringify({ force: value(r), limit: value(r), cursor: value(r) });
    default:
      return Buffer.from(Array.from({ length: r.int(32) }, () => r.int(256))).toString("latin1");
  }
}

const enc = (v: unknown) => encodeURIComponent(Buffer.from(String(v)).toString("utf8"));

async function expectClientError(res: Response, label: string): Promise<number> {
  if (res.status >= 500) throw new Error(`${label}: answered ${res.status} ${await res.text()}`);
  if (res.status >= 400) {
    const body = (await res.json()) as { message?: unknown };
    expect(typeof body.message, label).toBe("string");
  } else await res.arrayBuffer();
  return res.status;
}

describe("fuzzing with malformed bodies", () => {
  it("answers thousands of malformed batch bodies with a 4xx JSON error, never a 5xx", async () => {
    const h = harness({ maxObjectSize: 10_000, repoQuotaBytes: 1_000_000 });
    const auth = basic("bob", await token("bob", "org/repo:write"));
    const r = rng(20240601);
    let clientErrors = 0;
    for (let i = 0; i < 1500; i++) {
      const status = await expectClientError(
        await h.batch("org/repo", malformedBatch(r), auth),
        `batch case ${i}`,
      );
      if (status >= 400) clientErrors++;
    }
    expect(clientErrors).toBeGreaterThan(1100);
  });

  it("answers thousands of malformed lock bodies and queries without a 5xx", async () => {
    const h = harness();
    const auth = basic("bob", await token("bob", "org/repo:admin"));
    const r = rng(7);
    const routes = [
      "/org/repo/info/lfs/locks",
      "/org/repo/info/lfs/locks/verify",
      `/org/repo/info/lfs/locks/${"ab".repeat(26)}/unlock`,
      "/org/repo/info/lfs/locks/zz/unlock",
    ];
    for (let i = 0; i < 1000; i++) {
      await expectClientError(await h.call("POST", r.pick(routes), malformedLock(r), auth), `lock case ${i}`);
      const query = `?${r.pick(["limit", "cursor", "path", "id", "refspec"])}=${enc(value(r))}`;
      await expectClientError(
        await h.call("GET", `/org/repo/info/lfs/locks${query}`, undefined, auth),
        `list case ${i}`,
      );
    }
  });

  it("answers malformed transfer links and verify bodies without a 5xx", async () => {
    const h = harness();
    const r = rng(99);
    const oid = blob("x").oid;
    for (let i = 0; i < 500; i++) {
      const query = `?size=${enc(value(r))}&expires=${enc(value(r))}&sig=${enc(value(r))}`;
      const path = r.pick([
        `/org/repo/info/lfs/objects/${oid}`,
        `/org/repo/info/lfs/objects/${oid}/verify`,
        "/org/repo/info/lfs/objects/nothex",
        "/%E0%A4%A/info/lfs/objects/batch",
      ]);
      const method = r.pick(["GET", "PUT", "POST"]);
      const body = method === "GET" ? undefined : malformedLock(r);
      await expectClientError(await h.call(method, `${path}${query}`, body), `link case ${i}`);
    }
  });
});
