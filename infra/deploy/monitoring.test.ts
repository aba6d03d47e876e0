/**
 * The monitoring that ships with the apps: the alerting rules pass `promtool test rules`, and every
 * metric a rule or a Grafana dashboard names is one the app really exports (read from the /metrics of
 * the app started from its sources, on local disk, with its development settings).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { load as parse } from "js-yaml";
import { afterAll, describe, expect, it } from "vitest";
import { freePortBlock } from "../../packages/test-kit/src/scripts.ts";

const root = resolve(import.meta.dirname, "../..");
const monitoring = join(root, "deploy/monitoring");
const metricPrefix: Record<string, string> = {
  "lfs-router": "lfs_router",
  bitstore: "bitstore",
  "ftps-gateway": "ftps_gateway",
  "registry-usage": "registry_usage",
};
const apps = Object.keys(metricPrefix);

/** Every PromQL expression of an app's rules and dashboard. */
function expressions(app: string): string[] {
  const rules = parse(readFileSync(join(monitoring, `${app}.rules.yml`), "utf8")) as {
    groups: Array<{ rules: Array<{ expr: string }> }>;
  };
  const dashboard = JSON.parse(readFileSync(join(monitoring, "grafana", `${app}.json`), "utf8")) as {
    panels: Array<{ targets: Array<{ expr: string }> }>;
    templating: { list: Array<{ query?: { query?: string } | string }> };
  };
  return [
    ...rules.groups.flatMap((g) => g.rules.map((r) => r.expr)),
    ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)),
    ...dashboard.templating.list.flatMap((v) =>
      typeof v.query === "object" && v.query.query ? [v.query.query] : [],
    ),
  ];
}

/** Metric names (series families) an expression reads, histogram suffixes folded into the family. */
function metricNames(app: string): string[] {
  const pattern = new RegExp(`\\b${metricPrefix[app]}_[a-z0-9_]+`, "g");
  const names = expressions(app).flatMap((e) => e.match(pattern) ?? []);
  return [...new Set(names.map((n) => n.replace(/_(bucket|sum|count)$/, "")))].sort();
}

describe.each(apps)("deploy/monitoring for %s", (app) => {
  it("passes its promtool rule tests (each alert fires when it should and not before)", () => {
    const out = execFileSync("promtool", ["test", "rules", join(monitoring, "tests", `${app}.test.yml`)], {
      encoding: "utf8",
    });
    expect(out).toContain("SUCCESS");
  });

  it("names each alert's purpose: store unreachable, and a stale multipart or scan alert", () => {
    const text = readFileSync(join(monitoring, `${app}.rules.yml`), "utf8");
    expect(text).toMatch(/alert: \w+StoreUnreachable/);
    expect(text).toMatch(
      app === "registry-usage" ? /alert: \w+ScanFailing/ : /alert: \w+StaleMultipartUploads/,
    );
  });
});

describe("every metric a rule or dashboard names is exported", () => {
  const data = mkdtempSync(join(tmpdir(), "wharf-metrics-"));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(data, { recursive: true, force: true });
  });

  async function scrape(app: string): Promise<string> {
    const pkg = JSON.parse(readFileSync(join(root, "apps", app, "package.json"), "utf8")) as {
      wharf: { dev: { env: Record<string, string> } };
    };
    const base = await freePortBlock(8);
    const secret = "metrics-test-secret-0123456789abcdef";
    writeFileSync(join(data, ".dev-secret"), secret);
    const env: Record<string, string> = {};
    const vars: Record<string, string> = { DATA: data, DEV_SECRET: secret };
    for (const [k, v] of Object.entries(pkg.wharf.dev.env))
      env[k] = v.replace(/\$\{(DATA|DEV_SECRET)\}/g, (_, name: string) => vars[name] ?? "");
    // Ports of this run; every other setting is the one `./wharf start` uses.
    const http = app === "ftps-gateway" ? base + 7 : base;
    Object.assign(env, { PORT: String(base), HOST: "127.0.0.1", LOG_LEVEL: "warn", WHARF_DEV: "1" });
    if (app === "ftps-gateway")
      Object.assign(env, {
        FTP_COMMAND_PORT: String(base + 1),
        FTP_IMPLICIT_PORT: String(base + 2),
        FTP_DATA_PORTS_FIRST: String(base + 3),
        FTP_DATA_PORTS_COUNT: "4",
        HEALTHCHECK_PORT: String(http),
      });
    if (app === "bitstore") env.PUBLIC_URL = `http://127.0.0.1:${base}`;
    const child = spawn(process.execPath, [join(root, "apps", app, "src/main.ts")], {
      cwd: data,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.push(child);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    for (let attempt = 0; attempt < 200; attempt++) {
      if (child.exitCode !== null) throw new Error(`${app} exited (${child.exitCode}): ${stderr}`);
      const res = await fetch(`http://127.0.0.1:${http}/metrics`).catch(() => undefined);
      if (res?.ok) {
        const text = await res.text();
        child.kill("SIGTERM");
        return text;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${app} never answered /metrics: ${stderr}`);
  }

  it.each(apps)("%s", async (app) => {
    const exported = new Set(
      (await scrape(app))
        .split("\n")
        .filter((line) => line.startsWith("# TYPE "))
        .map((line) => line.split(" ")[2]),
    );
    const named = metricNames(app);
    expect(named.length).toBeGreaterThan(4);
    expect(named.filter((name) => !exported.has(name))).toEqual([]);
  });
});
