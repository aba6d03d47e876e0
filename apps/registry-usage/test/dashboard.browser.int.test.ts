import { mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { createMetrics, serveHttp, silentLogger } from "@wharf/http-kit";
import { openStorage } from "@wharf/storage-driver";
import { ldapEnv, ldapFixture, tempDir } from "@wharf/test-kit";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { createHistory } from "../src/history.ts";
import { createLdapAuthenticator } from "../src/ldap-auth.ts";
import { createRefresher } from "../src/refresher.ts";
import { createRegistryClient } from "../src/registry-client.ts";
import { createSnapshotStore } from "../src/snapshot-store.ts";
import { buildUi } from "../ui/build.ts";
import { launchChromium } from "./browser.ts";
import { type RegistryFixture, startRegistryFixture, total } from "./fixture.ts";

const artifacts = fileURLToPath(new URL("../test-artifacts/", import.meta.url));
const axeSource = await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const secret = "browser-test-secret-0123456789";
const expiresIn = 3600;

let fx: RegistryFixture;
let browser: Browser;
let base: string;
let adminBase: string;
let clock = Date.now();
const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  const built = buildUi();
  fx = await startRegistryFixture();
  cleanup.push(async () => fx[Symbol.asyncDispose]());
  await fx.push("a1", "alice/app", "v1");
  await fx.push("a2", "alice/app", "v2");
  await fx.push("a3", "alice/app", "v3");
  await fx.push("a2", "alice/app", "latest");
  await fx.push("c1", "alice/web", "1.0");
  await fx.push("tiny", "alice/tiny", "t");
  await fx.push("multi", "bob/tool", "latest");
  await fx.push("a1", "carol/secret", "x");
  const dir = await tempDir("ru-browser-");
  cleanup.push(async () => dir[Symbol.asyncDispose]());
  const driver = await openStorage(dir.path);
  const store = createSnapshotStore({ driver, prefix: "", reloadIntervalMs: 100 });
  const history = createHistory({ driver, prefix: "" });
  const client = createRegistryClient({ url: fx.registry.url, concurrency: 4, timeoutMs: 10_000 });
  const refresher = createRefresher({
    store,
    client,
    history,
    holder: "test",
    refreshIntervalSeconds: 3600,
    leaseSeconds: 60,
    pageSize: 100,
  });
  expect(await refresher.tick()).toBe("scanned");
  await refresher.stop();
  const env = ldapEnv();
  const serve = async (users: Record<string, string[]>) => {
    const app = createApp({
      config: {
        prefix: "/ru",
        jwt: { secret, expiresInSeconds: expiresIn },
        visibility: { default: [], users },
      },
      store,
      history,
      // No gid gate: alice and bob both log in (bob is outside the fixture's registry-users gid).
      ldap: createLdapAuthenticator({
        url: env.ldapsUrl,
        ca: env.ca,
        baseDn: env.baseDn,
        usernameAttribute: "uid",
        startTls: false,
        timeoutMs: 5000,
      }),
      logger: silentLogger(),
      metrics: createMetrics({ prefix: "t", defaultMetrics: false }),
      now: () => new Date(clock),
    });
    const server = await serveHttp(app.fetch, { port: 0, host: "127.0.0.1" });
    cleanup.push(async () => server.close());
    return `${server.url}/ru`;
  };
  base = await serve({ alice: ["alice/"], bob: ["bob/"] });
  // A second replica on the same store where alice sees everything (the registry-wide history).
  adminBase = await serve({ alice: ["*"] });
  await built;
  await mkdir(artifacts, { recursive: true });
  browser = await launchChromium();
  cleanup.push(() => browser.close());
}, 180_000);

afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

/** A fresh browser profile that records console errors and failed or blocked requests. */
async function openPage() {
  const context = await browser.newContext({ locale: "de-DE", timezoneId: "Europe/Berlin" });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
  page.on("response", (r) => r.status() >= 400 && problems.push(`status ${r.status()}: ${r.url()}`));
  page.on("pageerror", (e) => problems.push(`page: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
  return { page, context, problems };
}

/** Logs in with the keyboard only: the user field has focus, Tab to the password, Enter submits. */
async function login(page: Page, user: string, password: string, at = base) {
  await page.goto(`${at}/dashboard`);
  expect(new URL(page.url()).pathname).toBe("/ru/login");
  // The user name field takes the focus by itself (autofocus), once the page has settled.
  await page.locator("#username:focus").waitFor();
  await page.keyboard.type(user);
  await page.keyboard.press("Tab");
  await page.keyboard.type(password);
  const navigated = page.waitForNavigation();
  await page.keyboard.press("Enter");
  await navigated;
  if (password !== "wrong") {
    const alert = await page.locator("[role=alert]").allTextContents();
    expect(`${new URL(page.url()).pathname} ${alert.join(" ")}`.trim()).toBe(
      `${new URL(at).pathname}/dashboard`,
    );
  }
}

const api = async (page: Page, path: string, at = base) => {
  const res = await page.request.get(`${at}${path}`, { headers: { accept: "application/json" } });
  expect(res.status()).toBe(200);
  return (await res.json()) as Record<string, unknown>;
};

async function axe(page: Page) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const run = (
      globalThis as unknown as {
        axe: { run: () => Promise<{ violations: { id: string; impact: string }[] }> };
      }
    ).axe.run;
    return (await run()).violations.map((v) => `${v.impact} ${v.id}`);
  });
  return result.filter((v) => v.startsWith("serious") || v.startsWith("critical"));
}

const rowKeys = (page: Page) =>
  page.locator("table.data tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-key")));

describe("dashboard in headless Chromium", () => {
  const alice = { user: "alice", password: ldapFixture.users.alice.password };
  const bob = { user: "bob", password: ldapFixture.users.bob.password };

  it("refuses a wrong password with a message and no cookie", async () => {
    const { page, context } = await openPage();
    await login(page, alice.user, "wrong");
    await expect(page.locator("[role=alert]").textContent()).resolves.toMatch(/wrong user name or password/i);
    expect(await context.cookies()).toEqual([]);
    expect(await axe(page)).toEqual([]);
    await context.close();
  });

  it("shows alice her repositories, totals equal to the API's, one bar per repository, the history chart", async () => {
    const { page, context, problems } = await openPage();
    await login(page, alice.user, alice.password);
    expect(new URL(page.url()).pathname).toBe("/ru/dashboard");
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({
      name: "registry_usage_session",
      httpOnly: true,
      sameSite: "Strict",
      path: "/ru",
    });
    expect(await rowKeys(page)).toEqual(expect.arrayContaining(["alice/app", "alice/web", "alice/tiny"]));
    expect((await rowKeys(page)).length).toBe(3);
    const totals = await api(page, "/repositories");
    for (const key of ["size", "disk_size", "exclusive_size", "repository_count", "tag_count"]) {
      const shown = await page.locator(`[data-total="${key}"] data`).getAttribute("value");
      expect(Number(shown), key).toBe(totals[key]);
    }
    const bars = page.locator("svg.bars rect.bar");
    expect(await bars.evaluateAll((rects) => rects.map((r) => r.getAttribute("data-name")).sort())).toEqual(
      [...(await rowKeys(page))].sort(),
    );
    // alice sees part of the registry: the registry-wide history is not hers.
    expect(await page.locator("#history-chart").count()).toBe(0);
    // Dates in the viewer's locale (de-DE): "07.12.2026, 14:02" style.
    await expect(page.locator(".scan time").textContent()).resolves.toMatch(
      /^\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}$/,
    );
    await page.screenshot({ path: `${artifacts}overview-alice.png`, fullPage: true });
    expect(await axe(page)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("draws the registry-wide totals over time with uPlot for a user who sees everything", async () => {
    const { page, context, problems } = await openPage();
    await login(page, alice.user, alice.password, adminBase);
    const totals = await api(page, "/repositories", adminBase);
    // The registry may be shared with other runs: the snapshot, not the fixture, says how many.
    expect((await rowKeys(page)).length).toBe(Math.min(50, totals.repository_count as number));
    for (const key of [
      "size",
      "disk_size",
      "exclusive_size",
      "shared_size",
      "repository_count",
      "tag_count",
    ]) {
      const shown = await page.locator(`[data-total="${key}"] data`).getAttribute("value");
      expect(Number(shown), key).toBe(totals[key]);
    }
    expect(await page.locator("svg.bars rect.bar").count()).toBe((await rowKeys(page)).length);
    await page.locator("#history-chart[data-points] canvas").waitFor();
    const history = await api(page, "/history", adminBase);
    expect(await page.locator("#history-chart").getAttribute("data-points")).toBe(String(history.count));
    expect(history.points).toEqual([
      expect.objectContaining({ size: totals.size, tag_count: totals.tag_count }),
    ]);
    await page.screenshot({ path: `${artifacts}overview.png`, fullPage: true });
    expect(await axe(page)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("sorts and pages on the server, by keyboard, with a link that reproduces the view and its JSON", async () => {
    const { page, context, problems } = await openPage();
    await login(page, alice.user, alice.password);
    await page.goto(`${base}/dashboard?sort=name&per_page=2`);
    expect(await rowKeys(page)).toEqual(["alice/app", "alice/tiny"]);
    await page.getByRole("link", { name: "Next →" }).focus();
    await page.keyboard.press("Enter");
    await page.waitForURL(/[?&]page=2/);
    expect(await rowKeys(page)).toEqual(["alice/web"]);
    await page.getByRole("link", { name: /^Repository/ }).focus();
    await page.keyboard.press("Enter");
    await page.waitForURL(/sort=-name/);
    expect(await rowKeys(page)).toEqual(["alice/web", "alice/tiny"]);
    const json = await page.locator("#json-link").getAttribute("href");
    const body = await api(page, json!.slice("/ru".length));
    expect(body).toMatchObject({ page: 1, per_page: 2, total: 3 });
    const permalink = await page.locator("#permalink").getAttribute("href");
    await page.goto(`${base}/dashboard${permalink}`);
    expect(await rowKeys(page)).toEqual(["alice/web", "alice/tiny"]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("computes what deleting two selected tags frees, as the API does", async () => {
    const { page, context, problems } = await openPage();
    await login(page, alice.user, alice.password);
    await page.getByRole("link", { name: "alice/app" }).first().click();
    await page.waitForURL(/dashboard\/repositories\/alice%2Fapp/);
    expect((await rowKeys(page)).sort()).toEqual(["latest", "v1", "v2", "v3"]);
    // v2 and latest name one manifest: neither frees anything alone, together they free its blobs.
    await page.getByLabel("Select tag latest").check();
    await page.getByLabel("Select tag v2").focus();
    await page.keyboard.press("Space");
    const output = page.locator("#freed data");
    await output.waitFor();
    const api2 = await api(page, "/freed?repository=alice/app&tag=latest&tag=v2");
    for (const tag of ["latest", "v2"])
      expect((await api(page, `/repositories/alice%2Fapp/tags/${tag}`)).exclusive_size).toBe(0);
    // Independently: the blobs of the two tags that no other pushed tag references.
    const others = [...fx.pushed].flatMap(([repo, tags]) =>
      [...tags.keys()]
        .filter((t) => !(repo === "alice/app" && (t === "latest" || t === "v2")))
        .map((t) => fx.blobs(repo, t)),
    );
    const selected = new Map([...fx.blobs("alice/app", "latest"), ...fx.blobs("alice/app", "v2")]);
    const freed = new Map([...selected].filter(([digest]) => !others.some((b) => b.has(digest))));
    expect(api2.freed_size).toBe(total(freed));
    expect(total(freed)).toBeGreaterThan(30_000);
    expect(Number(await output.getAttribute("value"))).toBe(api2.freed_size);
    await page.screenshot({ path: `${artifacts}repository-alice-app.png`, fullPage: true });
    expect(await axe(page)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("shows bob only his repositories; logout and an expired cookie lead back to the login page", async () => {
    const { page, context, problems } = await openPage();
    await login(page, bob.user, bob.password);
    expect(await rowKeys(page)).toEqual(["bob/tool"]);
    expect((await page.goto(`${base}/dashboard/repositories/alice%2Fapp`))?.status()).toBe(404);
    await page.goto(`${base}/dashboard`);
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(/\/ru\/login$/);
    expect(await context.cookies()).toEqual([]);
    await page.goto(`${base}/dashboard`);
    expect(new URL(page.url()).pathname).toBe("/ru/login");
    await login(page, bob.user, bob.password);
    clock += (expiresIn + 60) * 1000;
    try {
      await page.goto(`${base}/dashboard`);
      expect(new URL(page.url()).pathname).toBe("/ru/login");
    } finally {
      clock -= (expiresIn + 60) * 1000;
    }
    expect(problems.filter((p) => !p.includes("404"))).toEqual([]);
    await context.close();
  });
});
