import { createHmac } from "node:crypto";
import { createIssuer } from "@wharf/auth-jwt";
import { WharfError } from "@wharf/errors";
import { createMetrics, silentLogger } from "@wharf/http-kit";
import { createMemoryDriver } from "@wharf/storage-driver";
import { describe, expect, it } from "vitest";
import { createApp } from "./app.ts";
import type { Snapshot } from "./crawl.ts";
import { mediaTypes } from "./manifest.ts";
import { createSnapshotStore } from "./snapshot-store.ts";

const secret = "app-test-secret-0123456789";
const d = (name: string) => `sha256:${name.padEnd(64, "0")}`;
const blob = (name: string, size: number) => ({ digest: d(name), size });
const image = (config: string, ...layers: [string, number][]) => ({
  kind: "image" as const,
  mediaType: mediaTypes.ociManifest,
  config: blob(config, 10),
  layers: layers.map(([n, s]) => blob(n, s)),
});
const tag = (name: string, digest: string) => ({
  name,
  digest: d(digest),
  mediaType: mediaTypes.ociManifest,
});

const snapshot: Snapshot = {
  version: 1,
  timestamp: 1795317000.0651085,
  repositories: [
    { name: "group/app", tags: [tag("latest", "m1"), tag("v1", "m2")] },
    { name: "group/sub/lib", tags: [tag("1.0", "m3")] },
    { name: "team/tags", tags: [tag("t", "m3")] },
    { name: "broken/repo", tags: null, error: "tags of broken/repo: not found" },
  ],
  manifests: {
    [d("m1")]: image("c1", ["aaa", 1000], ["bbb", 200], ["ccc", 30]),
    [d("m2")]: image("c2", ["aaa", 1000], ["bbb", 200]),
    [d("m3")]: image("c3", ["aaa", 1000], ["ddd", 4]),
  },
  blobSizes: {},
};

// biome-ignore lint/suspicious/noExplicitAny: HAL bodies are walked freely in assertions
type Json = Record<string, any>;

async function setup(
  options: { prefix?: string; visibility?: Record<string, string[]>; empty?: boolean } = {},
) {
  const store = createSnapshotStore({ driver: createMemoryDriver(), prefix: "ru/", reloadIntervalMs: 1000 });
  if (!options.empty) await store.save(snapshot, undefined);
  const app = createApp({
    config: {
      prefix: options.prefix ?? "",
      jwt: { secret, expiresInSeconds: 3600 },
      visibility: { default: ["*"], users: options.visibility ?? {} },
    },
    store,
    ldap: {
      authenticate: async () => {
        throw new WharfError("UNAUTHENTICATED", "no");
      },
    },
    logger: silentLogger(),
    metrics: createMetrics({ prefix: "t", defaultMetrics: false }),
  });
  const issuer = createIssuer({ algorithm: "HS256", secret });
  const token = async (sub = "alice", claims: Json = { type: "access", fresh: false }) =>
    issuer.issue(claims, { expiresIn: 600, subject: sub });
  const auth = { authorization: `Bearer ${await token()}` };
  const get = async (path: string, headers: Record<string, string> = auth) => app.request(path, { headers });
  const json = async (path: string, headers?: Record<string, string>) => {
    const res = await get(path, headers);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/hal+json");
    return (await res.json()) as Json;
  };
  return { app, get, json, token, store };
}

/** An HS256 token with exactly these claims (PyJWT-style: nothing added). */
function hs256(claims: Json): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const signed = `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}`;
  return `${signed}.${createHmac("sha256", secret).update(signed).digest("base64url")}`;
}

describe("Bearer authentication", () => {
  it("refuses a request without a token with 401, a Bearer challenge and the original's msg field", async () => {
    const { get } = await setup();
    const res = await get("/repositories", {});
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm=/);
    const body = (await res.json()) as Json;
    expect(body.code).toBe("UNAUTHENTICATED");
    expect(typeof body.msg).toBe("string");
  });

  it("refuses a token signed with another key, a Basic header and a refresh token", async () => {
    const { get, token } = await setup();
    const other = await createIssuer({ algorithm: "HS256", secret: "another-secret-0123456789" }).issue(
      {},
      { expiresIn: 60, subject: "x" },
    );
    expect((await get("/repositories", { authorization: `Bearer ${other}` })).status).toBe(401);
    expect((await get("/repositories", { authorization: "Basic YTpi" })).status).toBe(401);
    const refresh = await token("alice", { type: "refresh" });
    expect((await get("/repositories", { authorization: `Bearer ${refresh}` })).status).toBe(401);
  });

  it("answers Flask-JWT-Extended's msg texts for the same situations (regression: Wharf's own texts)", async () => {
    const { get, token } = await setup();
    const good = await token("alice");
    const [head, body] = good.split(".");
    const past = Math.floor(Date.now() / 1000) - 60;
    const cases: [string, Record<string, string>, string][] = [
      ["no header", {}, "Missing Authorization Header"],
      [
        "another scheme",
        { authorization: "Basic YTpi" },
        "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'",
      ],
      ["a malformed token", { authorization: "Bearer abc" }, "Not enough segments"],
      [
        "a bad signature",
        { authorization: `Bearer ${head}.${body}.${"A".repeat(43)}` },
        "Signature verification failed",
      ],
      [
        "an expired token",
        { authorization: `Bearer ${hs256({ sub: "alice", exp: past })}` },
        "Token has expired",
      ],
      [
        "a refresh token",
        { authorization: `Bearer ${await token("alice", { type: "refresh" })}` },
        "Only non-refresh tokens are allowed",
      ],
    ];
    for (const [what, headers, msg] of cases) {
      const res = await get("/repositories", headers);
      expect(res.status, what).toBe(401);
      const answer = (await res.json()) as Json;
      expect(answer.msg, what).toBe(msg);
      expect(answer.code, what).toBe("UNAUTHENTICATED");
    }
  });

  it("still refuses a token without exp, which the original accepted (see the migration notes)", async () => {
    const { get } = await setup();
    const res = await get("/repositories", { authorization: `Bearer ${hs256({ sub: "alice" })}` });
    expect(res.status).toBe(401);
    expect(((await res.json()) as Json).msg).toBe('Token is missing the "exp" claim');
  });

  it("accepts a token carrying only sub and exp", async () => {
    const { get, token } = await setup();
    expect((await get("/repositories", { authorization: `Bearer ${await token("alice", {})}` })).status).toBe(
      200,
    );
  });
});

describe("HAL resources", () => {
  it("serves the collection with timestamp, totals and scan status, without _links or _embedded by default", async () => {
    const { json } = await setup();
    const body = await json("/repositories");
    expect(body).toMatchObject({
      timestamp: 1795317000.0651085,
      size: 1240 + 1210 + 1014 + 1014,
      repository_count: 4,
      tag_count: 4,
      unique_size: 1000 + 200 + 30 + 4 + 30,
      scan: { state: "never" },
    });
    expect(body._links).toBeUndefined();
    expect(body._embedded).toBeUndefined();
  });

  it("serves a repository by plain and %2F-encoded name, also under /images", async () => {
    const { json } = await setup();
    const plain = await json("/repositories/group/sub/lib");
    expect(plain).toMatchObject({ name: "group/sub/lib", size: 1014, tag_count: 1 });
    expect(await json("/repositories/group%2Fsub%2Flib")).toEqual(plain);
    expect(await json("/images/group%2Fsub%2Flib")).toEqual(plain);
  });

  it("gives a repository whose tags are unreadable null sizes, and its tags 404 instead of 500", async () => {
    const { json, get } = await setup();
    expect(await json("/repositories/broken%2Frepo")).toMatchObject({
      size: null,
      disk_size: null,
      error: expect.any(String),
    });
    expect((await get("/repositories/broken%2Frepo/tags/x")).status).toBe(404);
  });

  it("answers unknown repositories and tags with 404 naming the path", async () => {
    const { get } = await setup();
    const res = await get("/repositories/nope");
    expect(res.status).toBe(404);
    const body = (await res.json()) as Json;
    expect(body.code).toBe("NOT_FOUND");
    expect(body.message).toContain("/repositories/nope");
    expect((await get("/repositories/group%2Fapp/tags/nope")).status).toBe(404);
  });

  it("reads a literal tags segment as the end of the name, unless that repository does not exist", async () => {
    const { json } = await setup();
    expect(await json("/repositories/team/tags")).toMatchObject({ name: "team/tags" });
    expect(await json("/repositories/team%2Ftags/tags")).toMatchObject({ repository: "team/tags", count: 1 });
  });

  it("links correctly under a server prefix: self, collection, up, related, items titled by tag", async () => {
    const { json } = await setup({ prefix: "/ru" });
    const repo = await json("/ru/repositories/group%2Fapp?links=true");
    expect(repo._links).toEqual({
      self: { href: "/ru/repositories/group%2Fapp" },
      collection: { href: "/ru/repositories" },
      up: { href: "/ru/repositories" },
      related: { href: "/ru/repositories/group%2Fapp/tags", title: "tags" },
    });
    const tags = await json("/ru/repositories/group/app/tags?links=yes");
    expect(tags._links).toEqual({
      self: { href: "/ru/repositories/group%2Fapp/tags" },
      up: { href: "/ru/repositories/group%2Fapp" },
      items: [
        { href: "/ru/repositories/group%2Fapp/tags/latest", title: "latest" },
        { href: "/ru/repositories/group%2Fapp/tags/v1", title: "v1" },
      ],
    });
    const one = await json("/ru/repositories/group%2Fapp/tags/latest?links=1");
    expect(one).toMatchObject({
      name: "latest",
      size: 1240,
      disk_size: expect.any(Number),
      exclusive_size: 40,
    });
    expect(one._links).toEqual({
      self: { href: "/ru/repositories/group%2Fapp/tags/latest" },
      collection: { href: "/ru/repositories/group%2Fapp/tags" },
      up: { href: "/ru/repositories/group%2Fapp" },
    });
    const images = await json("/ru/images?links=t");
    expect(images._links.items[0]).toEqual({ href: "/ru/images/group%2Fapp", title: "group/app" });
  });

  it("embeds to the asked depth: true is unlimited, N stops after N levels", async () => {
    const { json } = await setup();
    const all = await json("/repositories?embed=true");
    const app = all._embedded.items[0];
    expect(app.name).toBe("group/app");
    expect(app._embedded.related._embedded.items.map((t: Json) => t.name)).toEqual(["latest", "v1"]);
    const one = await json("/repositories?embed=1");
    expect(one._embedded.items[0]._embedded).toBeUndefined();
    const two = await json("/repositories?embed=2");
    expect(two._embedded.items[0]._embedded.related._embedded).toBeUndefined();
    expect((await json("/repositories/broken%2Frepo?embed=true"))._embedded).toBeUndefined();
  });

  it("pages and sorts collections, with first/prev/next/last links", async () => {
    const { json } = await setup();
    const page = await json("/repositories?sort=-size&per_page=2&page=2&links=true&embed=1");
    expect(page).toMatchObject({ page: 2, per_page: 2, total: 4 });
    expect(page._embedded.items.map((r: Json) => r.name)).toEqual(["team/tags", "broken/repo"]);
    expect(page._links.prev).toEqual({ href: "/repositories?sort=-size&page=1&per_page=2" });
    expect(page._links.next).toBeUndefined();
    expect(page._links.last).toEqual({ href: "/repositories?sort=-size&page=2&per_page=2" });
    const first = await json("/repositories?sort=size&order=desc&per_page=2&links=true");
    expect(first._links.items.map((l: Json) => l.title)).toEqual(["group/app", "group/sub/lib"]);
    const tags = await json("/repositories/group%2Fapp/tags?sort=size&embed=1");
    expect(tags._embedded.items.map((t: Json) => t.name)).toEqual(["v1", "latest"]);
  });

  it("rejects bad paging and sorting parameters with 400", async () => {
    const { get } = await setup();
    for (const query of ["per_page=0", "per_page=5000", "page=x&per_page=2", "sort=colour", "order=up"]) {
      expect((await get(`/repositories?${query}`)).status).toBe(400);
    }
  });

  it("renders an escaped HTML table for Accept: text/html", async () => {
    const { get, token } = await setup();
    const res = await get("/repositories/group%2Fapp?links=true", {
      authorization: `Bearer ${await token()}`,
      accept: "text/html,application/xhtml+xml,*/*;q=0.8",
    });
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html.startsWith("<!DOCTYPE html><html>")).toBe(true);
    expect(html).toContain('<table border="1">');
    expect(html).toContain('<a href="/repositories/group%2Fapp/tags">tags</a>');
  });

  it("answers other methods with 405", async () => {
    const { app, token } = await setup();
    const res = await app.request("/repositories", {
      method: "DELETE",
      headers: { authorization: `Bearer ${await token()}` },
    });
    expect(res.status).toBe(405);
  });

  it("answers 503 with a reason before the first scan is stored", async () => {
    const { get } = await setup({ empty: true });
    const res = await get("/repositories");
    expect(res.status).toBe(503);
    expect(((await res.json()) as Json).message).toContain("no registry scan");
  });
});

describe("per-user visibility", () => {
  it("shows a restricted user only repositories under their prefixes, and no registry-wide totals", async () => {
    const { json, get, token } = await setup({ visibility: { bob: ["group/sub/"] } });
    const headers = { authorization: `Bearer ${await token("bob")}` };
    const body = await json("/repositories?links=true", headers);
    expect(body._links.items.map((l: Json) => l.title)).toEqual(["group/sub/lib"]);
    expect(body).toMatchObject({ repository_count: 1, size: 1014 });
    expect(body.unique_size).toBeUndefined();
    expect((await get("/repositories/group%2Fapp", headers)).status).toBe(404);
    expect((await json("/repositories?links=true"))._links.items).toHaveLength(4);
  });
});
