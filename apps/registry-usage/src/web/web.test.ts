import { createIssuer } from "@wharf/auth-jwt";
import { WharfError } from "@wharf/errors";
import { createMetrics, silentLogger } from "@wharf/http-kit";
import { createMemoryDriver } from "@wharf/storage-driver";
import { describe, expect, it } from "vitest";
import { createApp } from "../app.ts";
import type { Snapshot } from "../crawl.ts";
import { createHistory } from "../history.ts";
import { mediaTypes } from "../manifest.ts";
import { createSnapshotStore } from "../snapshot-store.ts";

const secret = "web-test-secret-0123456789";
const d = (name: string) => `sha256:${name.padEnd(64, "0")}`;
const image = (...layers: [string, number][]) => ({
  kind: "image" as const,
  mediaType: mediaTypes.ociManifest,
  layers: layers.map(([n, size]) => ({ digest: d(n), size })),
});
const tag = (name: string, m: string) => ({ name, digest: d(m), mediaType: mediaTypes.ociManifest });
const snapshot: Snapshot = {
  version: 1,
  timestamp: 1795317000,
  repositories: [
    { name: "alice/app", tags: [tag("v1", "m1"), tag("v2", "m2")] },
    { name: "bob/tool", tags: [tag("1", "m3")] },
  ],
  manifests: {
    [d("m1")]: image(["base", 1000], ["a", 200]),
    [d("m2")]: image(["base", 1000], ["a", 200], ["b", 30]),
    [d("m3")]: image(["base", 1000], ["t", 7]),
  },
  blobSizes: {},
};

async function setup(now = () => new Date()) {
  const driver = createMemoryDriver();
  const store = createSnapshotStore({ driver, prefix: "", reloadIntervalMs: 1000 });
  await store.save(snapshot, undefined);
  const history = createHistory({ driver, prefix: "" });
  await history.record(snapshot.timestamp, (await store.current())!.usage.totals);
  const app = createApp({
    config: {
      prefix: "/ru",
      jwt: { secret, expiresInSeconds: 3600 },
      visibility: { default: ["*"], users: { bob: ["bob/"] } },
    },
    store,
    history,
    ldap: {
      authenticate: async (user, password) => {
        if (password !== `${user}pw`) throw new WharfError("UNAUTHENTICATED", "no");
        return user;
      },
    },
    logger: silentLogger(),
    metrics: createMetrics({ prefix: "t", defaultMetrics: false }),
    now,
  });
  return app;
}

const html = { accept: "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8" };
const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: "POST",
  body: new URLSearchParams(fields),
  headers: {
    "content-type": "application/x-www-form-urlencoded",
    host: "localhost",
    origin: "http://localhost",
    ...headers,
  },
});

async function login(
  app: Awaited<ReturnType<typeof setup>>,
  user: string,
  url = "http://localhost/ru/login",
) {
  const res = await app.request(
    url,
    form({ username: user, password: `${user}pw`, next: "/ru/dashboard?page=1" }),
  );
  expect(res.status).toBe(303);
  const cookie = res.headers.get("set-cookie") ?? "";
  return { res, cookie, header: { cookie: cookie.split(";")[0]!, ...html } };
}

describe("browser sign-in", () => {
  it("locks the login form out after the API's failure limit, one count with /auth_token", async () => {
    // The app's own guard (defaults: 5 failures per user name); /login and /auth_token share it.
    const app = await setup();
    for (let i = 0; i < 3; i++) {
      const res = await app.request(
        "http://localhost/ru/login",
        form({ username: "carol", password: "wrong" }),
      );
      expect(res.status).toBe(401);
      expect(res.headers.get("set-cookie")).toBeNull();
    }
    for (let i = 0; i < 2; i++)
      expect(
        (
          await app.request("/ru/auth_token", {
            headers: { authorization: `Basic ${Buffer.from("carol:wrong").toString("base64")}` },
          })
        ).status,
      ).toBe(401);
    const locked = await app.request(
      "http://localhost/ru/login",
      form({ username: "carol", password: "carolpw" }),
    );
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await locked.text()).toContain("Too many failed logins");
    expect(locked.headers.get("set-cookie")).toBeNull();
  });

  it("sends a browser without a session to the login page, keeps 401 for API clients", async () => {
    const app = await setup();
    const page = await app.request("/ru/dashboard?sort=name", { headers: html });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/ru/login?next=%2Fru%2Fdashboard%3Fsort%3Dname");
    expect((await app.request("/ru/repositories", { headers: html })).status).toBe(303);
    expect((await app.request("/ru/repositories")).status).toBe(401);
    const loginPage = await app.request("/ru/login", { headers: html });
    expect(loginPage.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(loginPage.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(loginPage.headers.get("x-content-type-options")).toBe("nosniff");
    expect(loginPage.headers.get("referrer-policy")).toBe("same-origin");
    expect(loginPage.headers.get("cache-control")).toBe("no-store");
    expect(await loginPage.text()).not.toMatch(/<script(?![^>]*\ssrc=)|\sstyle=|\son\w+=/);
  });

  it("sets an HttpOnly SameSite=Strict cookie living as long as the JWT, Secure only over TLS", async () => {
    const app = await setup();
    const { res, cookie } = await login(app, "alice");
    expect(res.headers.get("location")).toBe("/ru/dashboard?page=1");
    expect(cookie).toMatch(
      /^registry_usage_session=ey[^;]+; Max-Age=3600; Path=\/ru; HttpOnly; SameSite=Strict$/,
    );
    expect((await login(app, "alice", "https://localhost/ru/login")).cookie).toContain("; Secure");
    const proxied = await app.request(
      "/ru/login",
      form({ username: "alice", password: "alicepw" }, { "x-forwarded-proto": "https" }),
    );
    expect(proxied.headers.get("set-cookie")).toContain("; Secure");
  });

  it("answers a wrong password with the form, a message and no cookie", async () => {
    const app = await setup();
    const res = await app.request("/ru/login", form({ username: "alice", password: "nope" }));
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(await res.text()).toContain('role="alert"');
  });

  it("refuses cross-site login and logout posts", async () => {
    const app = await setup();
    const evil = { origin: "https://evil.example" };
    const res = await app.request("/ru/login", form({ username: "alice", password: "alicepw" }, evil));
    expect(res.status).toBe(403);
    expect(res.headers.get("set-cookie")).toBeNull();
    const site = await app.request("/ru/logout", {
      method: "POST",
      headers: { "sec-fetch-site": "cross-site" },
    });
    expect(site.status).toBe(403);
  });

  it("never redirects to another site after login", async () => {
    const app = await setup();
    for (const next of [
      "https://evil.example/",
      "//evil.example/ru/",
      "/elsewhere",
      "/ru/\\evil",
      "/ru/x\r\nSet-Cookie: a=b",
    ]) {
      const res = await app.request("/ru/login", form({ username: "alice", password: "alicepw", next }));
      expect(res.headers.get("location")).toBe("/ru/dashboard");
    }
  });

  it("accepts the cookie for pages and their JSON; logout and expiry lead back to the login page", async () => {
    let clock = Date.now();
    const app = await setup(() => new Date(clock));
    const { header } = await login(app, "alice");
    const page = await app.request("/ru/dashboard", { headers: header });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("alice/app");
    const json = await app.request("/ru/repositories", { headers: { cookie: header.cookie } });
    expect(json.status).toBe(200);
    const out = await app.request("/ru/logout", {
      method: "POST",
      headers: { ...header, origin: "http://localhost", host: "localhost" },
    });
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toMatch(/^registry_usage_session=; Max-Age=0; Path=\/ru/);
    clock += 3601_000;
    const expired = await app.request("/ru/dashboard", { headers: header });
    expect(expired.status).toBe(303);
    expect(expired.headers.get("location")).toMatch(/^\/ru\/login/);
    expect(expired.headers.get("set-cookie")).toMatch(/Max-Age=0/);
  });
});

describe("dashboard pages", () => {
  it("answers a missing repository and a bad query with a page, not JSON", async () => {
    const app = await setup();
    const { header } = await login(app, "alice");
    const missing = await app.request("/ru/dashboard/repositories/nope", { headers: header });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await missing.text()).toContain("does not exist");
    const bad = await app.request("/ru/dashboard?per_page=0", { headers: header });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("per_page must be a whole number");
  });
});

describe("dashboard resources", () => {
  it("GET /freed computes what deleting the selection frees, for visible repositories only", async () => {
    const app = await setup();
    const token = await createIssuer({ algorithm: "HS256", secret }).issue(
      {},
      { expiresIn: 60, subject: "bob" },
    );
    const alice = (await login(app, "alice")).header;
    const res = await app.request("/ru/freed?repository=alice/app&tag=v1&tag=v2&links=1", {
      headers: { cookie: alice.cookie },
    });
    expect(res.headers.get("content-type")).toBe("application/hal+json");
    expect(await res.json()).toEqual({
      repository: "alice/app",
      tags: ["v1", "v2"],
      freed_size: 230,
      freed_blob_count: 2,
      size: 1230,
      blob_count: 3,
      _links: {
        self: { href: "/ru/freed?repository=alice%2Fapp&tag=v1&tag=v2" },
        up: { href: "/ru/repositories/alice%2Fapp" },
      },
    });
    expect(
      (await app.request("/ru/freed?repository=alice/app&tag=nope", { headers: { cookie: alice.cookie } }))
        .status,
    ).toBe(404);
    const asBob = { authorization: `Bearer ${token}` };
    expect((await app.request("/ru/freed?repository=alice/app&tag=v1", { headers: asBob })).status).toBe(404);
    expect((await app.request("/ru/history", { headers: asBob })).status).toBe(403);
  });

  it("GET /history serves the stored points (HAL)", async () => {
    const app = await setup();
    const { header } = await login(app, "alice");
    const body = (await (
      await app.request("/ru/history", { headers: { cookie: header.cookie } })
    ).json()) as {
      count: number;
      points: { timestamp: number; size: number }[];
    };
    expect(body.count).toBe(1);
    expect(body.points[0]).toMatchObject({ timestamp: 1795317000, size: 1230 + 1200 + 1007 });
  });

  it("sorts, filters and pages the repository table on the server", async () => {
    const app = await setup();
    const { header } = await login(app, "alice");
    const text = await (
      await app.request("/ru/dashboard?sort=name&per_page=1&page=2", { headers: header })
    ).text();
    expect(text).toContain('data-key="bob/tool"');
    expect(text).not.toContain('data-key="alice/app"');
    expect(text).toContain("Page 2 of 2");
    expect(text).toContain('href="/ru/repositories?sort=name&amp;page=2&amp;per_page=1&amp;format=json"');
    const json = await app.request("/ru/repositories?sort=name&page=2&per_page=1&format=json", {
      headers: header,
    });
    expect(json.headers.get("content-type")).toBe("application/hal+json");
    const filtered = await (await app.request("/ru/dashboard?q=TOOL", { headers: header })).text();
    expect(filtered).toContain('data-key="bob/tool"');
    expect(filtered).not.toContain('data-key="alice/app"');
  });
});
