import { WharfError } from "@wharf/errors";
import { recordingLogger } from "@wharf/http-kit";
import { createMemoryDriver } from "@wharf/storage-driver";
import { describe, expect, it } from "vitest";
import { basic, blob, harness, token } from "./test-support.ts";

interface BatchObject {
  oid: string;
  size: number;
  authenticated?: boolean;
  actions?: Record<string, { href: string; header?: Record<string, string>; expires_in: number }>;
  error?: { code: number; message: string };
}
const objectsOf = async (res: Response) => ((await res.json()) as { objects: BatchObject[] }).objects;

async function push(h: ReturnType<typeof harness>, repo: string, auth: string, text: string) {
  const b = blob(text);
  const [object] = await objectsOf(
    await h.batch(repo, { operation: "upload", objects: [{ oid: b.oid, size: b.size }] }, auth),
  );
  const actions = object?.actions;
  if (!actions?.upload) throw new Error("no upload action");
  const put = await h.call("PUT", actions.upload.href, b.data, undefined, {
    "Content-Type": "application/octet-stream",
  });
  return { b, put, actions };
}

describe("batch API", () => {
  it("uploads through the router with no verify action, then serves the object", async () => {
    const h = harness();
    const auth = basic("bob", await token("bob", "org/repo:write"));
    const { b, put, actions } = await push(h, "org/repo", auth, "hello lfs");
    // The PUT itself checks the sha256 and size: git-lfs makes no second request per object.
    expect(Object.keys(actions)).toEqual(["upload"]);
    expect(put.status).toBe(200);
    expect((await h.driver.head(`org/repo/${b.oid.slice(0, 2)}/${b.oid.slice(2, 4)}/${b.oid}`)).size).toBe(
      b.size,
    );

    const res = await h.batch(
      "org/repo",
      { operation: "download", objects: [{ oid: b.oid, size: b.size }] },
      auth,
    );
    expect(res.headers.get("content-type")).toBe("application/vnd.git-lfs+json");
    const [object] = await objectsOf(res);
    const get = await h.call("GET", object?.actions?.download?.href ?? "", undefined, undefined, {
      Accept: "",
    });
    expect(Buffer.from(await get.arrayBuffer()).toString()).toBe("hello lfs");
  });

  it("still answers the verify link of a batch response from before verify was dropped", async () => {
    const h = harness();
    const auth = basic("bob", await token("bob", "org/repo:write"));
    const { b } = await push(h, "org/repo", auth, "pushed mid-upgrade");
    const verify = await h.call("POST", h.verifyLink("org/repo", b), { oid: b.oid, size: b.size });
    expect(verify.status).toBe(200);
    expect(await verify.json()).toEqual({ oid: b.oid, size: b.size });
    const other = blob("never pushed");
    const missing = await h.call("POST", h.verifyLink("org/repo", other), {
      oid: other.oid,
      size: other.size,
    });
    expect(missing.status).toBe(404);
  });

  it("omits actions for an upload the store already has", async () => {
    const h = harness();
    const auth = basic("bob", await token("bob", "org/repo:write"));
    const { b } = await push(h, "org/repo", auth, "already here");
    const [object] = await objectsOf(
      await h.batch("org/repo", { operation: "upload", objects: [{ oid: b.oid, size: b.size }] }, auth),
    );
    expect(object).toEqual({ oid: b.oid, size: b.size, authenticated: true });
  });

  it("serves byte ranges for resumed downloads", async () => {
    const h = harness();
    const auth = basic("bob", await token("bob", "org/repo:write"));
    const { b } = await push(h, "org/repo", auth, "0123456789");
    const [object] = await objectsOf(
      await h.batch("org/repo", { operation: "download", objects: [{ oid: b.oid, size: b.size }] }, auth),
    );
    const href = object?.actions?.download?.href ?? "";
    const partial = await h.call("GET", href, undefined, undefined, { Range: "bytes=4-" });
    expect(partial.status).toBe(206);
    expect(partial.headers.get("content-range")).toBe("bytes 4-9/10");
    expect(await partial.text()).toBe("456789");
    const beyond = await h.call("GET", href, undefined, undefined, { Range: "bytes=50-60" });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe("bytes */10");
  });

  // Issue 25: a store without range reads (the capability rangeRead), as the README says.
  it("answers a Range with the whole object, 200, on a store without range reads", async () => {
    const memory = createMemoryDriver();
    const h = harness(
      {},
      {
        ...memory,
        capabilities: { ...memory.capabilities, rangeRead: false },
        get: (key, options) =>
          options?.range
            ? Promise.reject(new WharfError("UNSUPPORTED", "the store lacks the capability rangeRead"))
            : memory.get(key, options),
      },
    );
    const auth = basic("bob", await token("bob", "org/repo:write"));
    const { b } = await push(h, "org/repo", auth, "0123456789");
    const [object] = await objectsOf(
      await h.batch("org/repo", { operation: "download", objects: [{ oid: b.oid, size: b.size }] }, auth),
    );
    const whole = await h.call("GET", object?.actions?.download?.href ?? "", undefined, undefined, {
      Range: "bytes=4-",
    });
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-range")).toBeNull();
    expect(await whole.text()).toBe("0123456789");
  });

  it("never makes a body whose sha256 does not match its oid downloadable", async () => {
    const h = harness();
    const auth = basic("bob", await token("bob", "org/repo:write"));
    const b = blob("the real content");
    const [object] = await objectsOf(
      await h.batch("org/repo", { operation: "upload", objects: [{ oid: b.oid, size: b.size }] }, auth),
    );
    const forged = Buffer.from("the fake content");
    const put = await h.call("PUT", object?.actions?.upload?.href ?? "", forged);
    expect(put.status).toBe(422);
    const verify = await h.call("POST", h.verifyLink("org/repo", b), { oid: b.oid, size: b.size });
    expect(verify.status).toBe(404);
    const [down] = await objectsOf(
      await h.batch("org/repo", { operation: "download", objects: [{ oid: b.oid, size: b.size }] }, auth),
    );
    expect(down?.error?.code).toBe(404);
  });

  it("refuses a transfer link that was tampered with", async () => {
    const h = harness();
    const auth = basic("bob", await token("bob", "org/repo:write"));
    const b = blob("abc");
    const [object] = await objectsOf(
      await h.batch("org/repo", { operation: "upload", objects: [{ oid: b.oid, size: b.size }] }, auth),
    );
    const href = (object?.actions?.upload?.href ?? "").replace("org/repo", "org/other");
    expect((await h.call("PUT", href, b.data)).status).toBe(403);
  });

  it("keeps objects per repository, as timone's layout does", async () => {
    const h = harness();
    const auth = basic("bob", await token("bob", "org/*:write"));
    const { b } = await push(h, "org/one", auth, "per repo");
    const [object] = await objectsOf(
      await h.batch("org/two", { operation: "download", objects: [{ oid: b.oid, size: b.size }] }, auth),
    );
    expect(object?.error).toEqual({ code: 404, message: expect.any(String) });
  });

  it("accepts nested namespaces, and keeps a .git suffix in the key as timone did", async () => {
    const h = harness();
    const auth = basic("bob", await token("bob", "group/sub/repo:write"));
    const { b, put } = await push(h, "group/sub/repo.git", auth, "nested");
    expect(put.status).toBe(200);
    // Regression: the suffix was stripped, so objects timone pushed through `.git` URLs were 404.
    expect(
      (await h.driver.head(`group/sub/repo.git/${b.oid.slice(0, 2)}/${b.oid.slice(2, 4)}/${b.oid}`)).size,
    ).toBe(b.size);
  });

  it.each([
    ["a+b", "a+b"],
    ["my%20repo", "my repo"],
    ["caf%C3%A9", "café"],
    ["-dash", "-dash"],
    ["x..y", "x..y"],
  ])("serves the repository name %s that timone accepted, under timone's key", async (inUrl, name) => {
    const h = harness();
    const auth = basic("bob", await token("bob", "org/*:write"));
    const { b, put } = await push(h, `org/${inUrl}`, auth, `named ${name}`);
    expect(put.status).toBe(200);
    const key = `org/${name}/${b.oid.slice(0, 2)}/${b.oid.slice(2, 4)}/${b.oid}`;
    expect((await h.driver.head(key)).size).toBe(b.size);
  });

  it.each(["org/..", "org/.", "_lfs/locks", "org/a%5Cb", "org/a%00b"])(
    "answers 404 for the repository path %s",
    async (repo) => {
      const h = harness();
      const auth = basic("bob", await token("bob", "*:write"));
      const res = await h.batch(repo, { operation: "download", objects: [] }, auth);
      expect(res.status).toBe(404);
    },
  );

  it("answers per-object errors with numeric codes", async () => {
    const h = harness({ maxObjectSize: 1000 });
    const auth = basic("bob", await token("bob", "org/repo:write"));
    const missing = blob("never pushed");
    const res = await h.batch(
      "org/repo",
      {
        operation: "download",
        objects: [
          { oid: "xyz", size: 1 },
          { oid: missing.oid, size: -1 },
          { oid: missing.oid, size: missing.size },
        ],
      },
      auth,
    );
    expect(res.status).toBe(200);
    expect((await objectsOf(res)).map((o) => o.error?.code)).toEqual([422, 422, 404]);
    const big = await h.batch(
      "org/repo",
      { operation: "upload", objects: [{ oid: missing.oid, size: 5000 }] },
      auth,
    );
    expect((await objectsOf(big))[0]?.error?.code).toBe(422);
  });

  it("ignores unknown fields and accepts hash_algo sha256 (timone answered 500)", async () => {
    const h = harness();
    const auth = basic("bob", await token("bob", "org/repo:write"));
    const b = blob("x");
    const res = await h.batch(
      "org/repo",
      {
        operation: "upload",
        transfers: ["lfs-standalone-file", "basic", "ssh"],
        ref: { name: "refs/heads/main" },
        hash_algo: "sha256",
        novel: 1,
        objects: [{ oid: b.oid, size: b.size, extra: true }],
      },
      auth,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ transfer: "basic", hash_algo: "sha256" });
  });

  it.each([
    ["an unknown hash algorithm", { operation: "upload", hash_algo: "sha512", objects: [] }, {}, 409],
    ["a non-JSON body", "{not json", {}, 422],
    ["an unknown operation", { operation: "delete", objects: [] }, {}, 422],
    ["a missing objects list", { operation: "upload" }, {}, 422],
    ["no common transfer adapter", { operation: "upload", transfers: ["tus"], objects: [] }, {}, 422],
    [
      "an Accept header without the LFS media type",
      { operation: "upload", objects: [] },
      { Accept: "text/html" },
      406,
    ],
  ])("rejects %s", async (_name, body, headers, status) => {
    const h = harness();
    const auth = basic("bob", await token("bob", "org/repo:write"));
    const res = await h.batch("org/repo", body, auth, headers as Record<string, string>);
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ message: expect.any(String), request_id: expect.any(String) });
  });

  it("answers 413 for more objects than the configured maximum", async () => {
    const h = harness({ maxBatchObjects: 2 });
    const auth = basic("bob", await token("bob", "org/repo:write"));
    const objects = ["a", "b", "c"].map((t) => ({ oid: blob(t).oid, size: 1 }));
    expect((await h.batch("org/repo", { operation: "upload", objects }, auth)).status).toBe(413);
  });

  it("answers 507 when an upload would exceed the repository quota", async () => {
    const h = harness({ repoQuotaBytes: 12 });
    const auth = basic("bob", await token("bob", "org/repo:write"));
    const { put } = await push(h, "org/repo", auth, "ten bytes!");
    expect(put.status).toBe(200);
    const b = blob("three");
    const res = await h.batch(
      "org/repo",
      { operation: "upload", objects: [{ oid: b.oid, size: b.size }] },
      auth,
    );
    expect(res.status).toBe(507);
    const other = await h.batch(
      "org/other",
      { operation: "upload", objects: [{ oid: b.oid, size: b.size }] },
      basic("bob", await token("bob", "org/*:write")),
    );
    expect(other.status).toBe(200);
  });
});

describe("authentication and authorization", () => {
  const body = { operation: "download", objects: [] };

  it("challenges a request without credentials with LFS-Authenticate and WWW-Authenticate", async () => {
    const res = await harness().batch("org/repo", body);
    expect(res.status).toBe(401);
    expect(res.headers.get("lfs-authenticate")).toMatch(/^Basic realm="Git LFS"/);
    expect(res.headers.get("www-authenticate")).toMatch(/^Basic realm="Git LFS"/);
    expect(await res.json()).toEqual({ message: expect.any(String), request_id: expect.any(String) });
  });

  it("accepts a timone token (username claim, no scopes) when unscoped tokens are granted write", async () => {
    const h = harness({ unscopedTokenScopes: ["*:write"] });
    const res = await h.batch(
      "org/repo",
      { operation: "upload", objects: [] },
      basic("bob", await token("bob", undefined)),
    );
    expect(res.status).toBe(200);
  });

  it("refuses an unscoped token by default with 403", async () => {
    const res = await harness().batch("org/repo", body, basic("bob", await token("bob", undefined)));
    expect(res.status).toBe(403);
  });

  it("accepts a Bearer token", async () => {
    const res = await harness().batch("org/repo", body, `Bearer ${await token("bob", "org/repo:read")}`);
    expect(res.status).toBe(200);
  });

  it.each([
    [
      "a user name that differs from the token's",
      "claim_mismatch",
      async () => basic("mallory", await token("bob", "org/repo:write")),
    ],
    [
      "an expired token",
      "expired",
      async () =>
        basic(
          "bob",
          await token("bob", "org/repo:write", { now: new Date(Date.now() - 7200_000), expiresIn: 60 }),
        ),
    ],
    [
      "a token not valid yet (timone answered 500)",
      "not_yet_valid",
      async () =>
        basic(
          "bob",
          await token("bob", "org/repo:write", { claims: { nbf: Math.floor(Date.now() / 1000) + 3600 } }),
        ),
    ],
    [
      "a token signed with another secret",
      "bad_signature",
      async () => basic("bob", `${(await token("bob", "org/repo:write")).slice(0, -3)}abc`),
    ],
    ["garbage credentials", "malformed", async () => "Basic !!!"],
    ["an unknown scheme", "unsupported_scheme", async () => "Digest abc"],
  ])("answers 401 for %s and logs why (%s), never the credential", async (_name, reason, auth) => {
    const { logger, records } = recordingLogger();
    const credentials = await auth();
    const res = await harness({}, undefined, logger).batch("org/repo", body, credentials);
    expect(res.status).toBe(401);
    expect(res.headers.get("lfs-authenticate")).toBeTruthy();
    expect(records).toContainEqual(expect.objectContaining({ msg: "request", status: 401, reason }));
    expect(JSON.stringify(records)).not.toContain(credentials.split(" ")[1]);
  });

  it("answers 403 when a read-only token uploads, and logs the missing scope", async () => {
    const { logger, records } = recordingLogger();
    const res = await harness({}, undefined, logger).batch(
      "org/repo",
      { operation: "upload", objects: [] },
      basic("bob", await token("bob", "org/repo:read")),
    );
    expect(res.status).toBe(403);
    expect(records).toContainEqual(
      expect.objectContaining({
        status: 403,
        reason: "scope_missing",
        why: "bob may not write org/repo",
      }),
    );
  });

  it("answers 403 for a repository outside the token's scopes", async () => {
    const res = await harness().batch("other/repo", body, basic("bob", await token("bob", "org/*:write")));
    expect(res.status).toBe(403);
  });

  it("lets a ref-scoped token push to that branch only", async () => {
    const h = harness();
    const auth = basic("bob", await token("bob", "org/repo/refs/heads/feature:write"));
    const on = (ref: string) =>
      h.batch("org/repo", { operation: "upload", ref: { name: ref }, objects: [] }, auth);
    expect((await on("refs/heads/feature")).status).toBe(200);
    expect((await on("refs/heads/main")).status).toBe(403);
  });

  it("serves anonymous reads only for configured repositories", async () => {
    const h = harness({ anonymousRead: ["public/*"] });
    expect((await h.batch("public/repo", body)).status).toBe(200);
    expect((await h.batch("public/repo", { operation: "upload", objects: [] })).status).toBe(401);
    expect((await h.batch("private/repo", body)).status).toBe(401);
  });

  it("answers 404 for a path that is not a repository", async () => {
    const h = harness();
    const res = await h.batch("onlyone", body, basic("bob", await token("bob", "*:write")));
    expect(res.status).toBe(404);
  });
});

describe("operations", () => {
  it("answers HEAD on a download link with the object's length", async () => {
    const h = harness();
    const auth = basic("bob", await token("bob", "org/repo:write"));
    const { b } = await push(h, "org/repo", auth, "twelve bytes");
    const [object] = await objectsOf(
      await h.batch("org/repo", { operation: "download", objects: [{ oid: b.oid, size: b.size }] }, auth),
    );
    const res = await h.call("HEAD", object?.actions?.download?.href ?? "");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("12");
  });

  it("reports health from the store", async () => {
    expect((await harness().call("GET", "/healthz")).status).toBe(200);
  });
});
