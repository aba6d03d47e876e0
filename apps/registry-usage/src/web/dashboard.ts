import type { AuthEnv } from "@wharf/auth-jwt";
import { isWharfError, WharfError } from "@wharf/errors";
import { type HttpEnv, httpStatusByCode, publicMessage } from "@wharf/http-kit";
import type { Context, Hono, MiddlewareHandler } from "hono";
import type { Snapshot } from "../crawl.ts";
import { freedBy } from "../freed.ts";
import type { HalContext } from "../hal.ts";
import type { History } from "../history.ts";
import type { ScanStatus } from "../snapshot-store.ts";
import type { Usage } from "../usage.ts";
import { freedQuery } from "./freed-query.ts";
import { esc, page } from "./layout.ts";
import { overviewPage } from "./overview-page.ts";
import { repositoryPage } from "./repository-page.ts";
import { parseView } from "./view.ts";

type Env = HttpEnv & AuthEnv;

/** What app.ts's `prepare` gives a request: the snapshot and this user's view of it. */
export interface Prepared {
  readonly usage: Usage;
  readonly snapshot: Snapshot;
  readonly status: ScanStatus;
  readonly ctx: HalContext;
}

export interface DashboardOptions {
  readonly prefix: string;
  /** Session cookie or Bearer token (web/session.ts). */
  readonly auth: MiddlewareHandler<Env>;
  readonly prepare: (c: Context<Env>, base: string) => Promise<Prepared>;
  readonly history?: History;
  readonly assets: (c: Context) => Promise<Response>;
}

const hal = (c: Context, body: unknown) =>
  c.body(JSON.stringify(body), 200, { "Content-Type": "application/hal+json" });

/**
 * The browser dashboard (`/dashboard`, `/dashboard/repositories/{name}`), its assets, and the JSON
 * resources it adds to the API: `GET /freed` and `GET /history`.
 */
export function registerDashboard(app: Hono<Env>, options: DashboardOptions): void {
  const { prefix, auth } = options;
  const base = `${prefix}/repositories`;
  const user = (c: Context<Env>) => c.get("principal")?.subject ?? "";
  for (const path of [`${prefix}/dashboard`, `${prefix}/dashboard/*`, `${prefix}/freed`, `${prefix}/history`])
    app.use(path, auth);

  app.get(`${prefix}/assets/*`, (c) => options.assets(c));
  app.get(prefix || "/", (c) => c.redirect(`${prefix}/dashboard`, 303));

  /** A page's client-side errors (404, 503 before the first scan) as a page, not JSON. */
  const asPage =
    (handler: (c: Context<Env>) => Promise<Response>) =>
    async (c: Context<Env>): Promise<Response> => {
      try {
        return await handler(c);
      } catch (error) {
        if (!isWharfError(error) || error.code === "INTERNAL") throw error;
        const shown =
          typeof error.details?.publicMessage === "string"
            ? error.details.publicMessage
            : publicMessage(error);
        const body = `<h1>${esc(shown)}</h1><p><a href="${prefix}/dashboard">Overview</a></p>`;
        const headers: Record<string, string> = error.code === "UNAVAILABLE" ? { "Retry-After": "30" } : {};
        return c.html(
          page({ prefix, title: shown, user: user(c), body }),
          httpStatusByCode[error.code],
          headers,
        );
      }
    };

  app.get(
    `${prefix}/dashboard`,
    asPage(async (c) => {
      const prepared = await options.prepare(c, base);
      const view = parseView(new URL(c.req.url).searchParams, { sort: "-exclusive_size", perPage: 50 });
      return c.html(overviewPage({ prefix, user: user(c), prepared, view }));
    }),
  );

  app.get(
    `${prefix}/dashboard/repositories/*`,
    asPage(async (c) => {
      const prepared = await options.prepare(c, base);
      const url = new URL(c.req.url);
      const raw = url.pathname.slice(`${prefix}/dashboard/repositories/`.length);
      const name = decodeName(raw);
      const repo = name === undefined ? undefined : prepared.usage.byName.get(name);
      if (!repo || !prepared.ctx.visible(repo.name)) {
        throw new WharfError("NOT_FOUND", `The resource "${c.req.path}" does not exist`);
      }
      const view = parseView(url.searchParams, { sort: "-exclusive_size", perPage: 50 });
      const selected = new Set(url.searchParams.getAll("tag"));
      const freed = selected.size > 0 ? freedBy(prepared.snapshot, repo.name, selected) : undefined;
      return c.html(
        repositoryPage({ prefix, user: user(c), base, repo, view, selected, ...(freed ? { freed } : {}) }),
      );
    }),
  );

  app.get(`${prefix}/freed`, async (c) => {
    const { snapshot, usage, ctx } = await options.prepare(c, base);
    const params = new URL(c.req.url).searchParams;
    const name = params.get("repository") ?? "";
    const tags = [...new Set(params.getAll("tag"))];
    const repo = usage.byName.get(name);
    if (!repo || !ctx.visible(name))
      throw new WharfError("NOT_FOUND", `The repository "${name}" does not exist`);
    if (tags.length === 0) throw new WharfError("INVALID_ARGUMENT", "name at least one tag (tag=…)");
    const missing = tags.filter((t) => !repo.tags?.some((known) => known.name === t));
    if (missing.length > 0)
      throw new WharfError("NOT_FOUND", `no such tag in ${name}: ${missing.join(", ")}`);
    const freed = freedBy(snapshot, name, new Set(tags));
    const self = `${prefix}/freed?${freedQuery(name, tags)}`;
    const links = ctx.query.links
      ? { _links: { self: { href: self }, up: { href: `${base}/${encodeURIComponent(name)}` } } }
      : {};
    return hal(c, { repository: name, tags, ...freed, ...links });
  });

  app.get(`${prefix}/history`, async (c) => {
    const { ctx } = await options.prepare(c, base);
    if (!ctx.seesAll) {
      throw new WharfError(
        "PERMISSION_DENIED",
        "the history holds registry-wide totals; your account sees part of the registry",
      );
    }
    const points = (await options.history?.points()) ?? [];
    const links = ctx.query.links ? { _links: { self: { href: `${prefix}/history` } } } : {};
    return hal(c, { count: points.length, points, ...links });
  });
}

function decodeName(raw: string): string | undefined {
  try {
    const name = raw.replace(/\/+$/, "").split("/").map(decodeURIComponent).join("/");
    return name === "" ? undefined : name;
  } catch {
    return undefined;
  }
}
