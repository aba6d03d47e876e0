import { type HalQuery, listSearch, pageOf } from "./query.ts";
import type { ScanStatus } from "./snapshot-store.ts";
import type { RepoUsage, TagUsage, Usage } from "./usage.ts";

type Link = { href: string; title?: string };
type Json = Record<string, unknown>;

export interface HalContext {
  /** `<server prefix>/repositories` or `<server prefix>/images`. */
  readonly base: string;
  readonly query: HalQuery;
  /** Per-user visibility; registry-wide totals are only shown to users who see everything. */
  readonly visible: (name: string) => boolean;
  readonly seesAll: boolean;
}

const q = (value: string) => encodeURIComponent(value);

function withLinks(body: Json, links: Record<string, Link | Link[] | undefined>, ctx: HalContext): Json {
  if (!ctx.query.links) return body;
  const kept = Object.fromEntries(
    Object.entries(links).filter(([, v]) => v !== undefined && (!Array.isArray(v) || v.length > 0)),
  );
  return { ...body, _links: kept };
}

const repoHref = (ctx: HalContext, name: string) => `${ctx.base}/${q(name)}`;
const tagsHref = (ctx: HalContext, name: string) => `${repoHref(ctx, name)}/tags`;
const tagHref = (ctx: HalContext, repo: string, tag: string) => `${tagsHref(ctx, repo)}/${q(tag)}`;

const repoFields = (repo: RepoUsage): Json => ({
  name: repo.name,
  size: repo.size,
  disk_size: repo.disk_size,
  unique_size: repo.unique_size,
  exclusive_size: repo.exclusive_size,
  shared_size: repo.shared_size,
  tag_count: repo.tag_count,
  ...(repo.stale ? { stale: true } : {}),
  ...(repo.error ? { error: repo.error } : {}),
});

const tagFields = (tag: TagUsage): Json => ({ ...tag });

/** `GET /repositories`: collection attributes (timestamp, totals, scan status) and its items. */
export function repositoriesResource(usage: Usage, status: ScanStatus, ctx: HalContext, depth: number): Json {
  const visible = usage.repositories.filter((r) => ctx.visible(r.name));
  const list = ctx.query.list;
  const { items, total, lastPage } = pageOf(visible, list);
  const sum = (field: "size" | "disk_size" | "exclusive_size") =>
    visible.reduce((n, r) => n + (r[field] ?? 0), 0);
  const body: Json = {
    timestamp: usage.timestamp,
    size: sum("size"),
    disk_size: sum("disk_size"),
    exclusive_size: sum("exclusive_size"),
    ...(ctx.seesAll ? { unique_size: usage.totals.unique_size, shared_size: usage.totals.shared_size } : {}),
    repository_count: visible.length,
    tag_count: visible.reduce((n, r) => n + (r.tag_count ?? 0), 0),
    ...(list.perPage ? { page: list.page, per_page: list.perPage, total } : {}),
    scan: status,
  };
  const pageLink = (page: number) => ({ href: `${ctx.base}${listSearch(list, page)}` });
  const paged = list.perPage !== undefined;
  const linked = withLinks(
    body,
    {
      self: { href: `${ctx.base}${listSearch(list)}` },
      first: paged ? pageLink(1) : undefined,
      prev: paged && list.page > 1 ? pageLink(Math.min(list.page - 1, lastPage)) : undefined,
      next: paged && list.page < lastPage ? pageLink(list.page + 1) : undefined,
      last: paged ? pageLink(lastPage) : undefined,
      items: items.map((r) => ({ href: repoHref(ctx, r.name), title: r.name })),
    },
    ctx,
  );
  if (depth < 1) return linked;
  return {
    ...linked,
    _embedded: items.length ? { items: items.map((r) => repositoryResource(r, ctx, depth - 1)) } : {},
  };
}

/** `GET /repositories/{name}`. */
export function repositoryResource(repo: RepoUsage, ctx: HalContext, depth: number): Json {
  const linked = withLinks(
    repoFields(repo),
    {
      self: { href: repoHref(ctx, repo.name) },
      collection: { href: ctx.base },
      up: { href: ctx.base },
      related: repo.tags ? { href: tagsHref(ctx, repo.name), title: "tags" } : undefined,
    },
    ctx,
  );
  if (depth < 1 || !repo.tags) return linked;
  return { ...linked, _embedded: { related: tagsResource(repo, ctx, depth - 1) } };
}

/** `GET /repositories/{name}/tags`. */
export function tagsResource(repo: RepoUsage, ctx: HalContext, depth: number): Json {
  const { items, total, lastPage } = pageOf(repo.tags ?? [], ctx.query.list);
  const list = ctx.query.list;
  const base = tagsHref(ctx, repo.name);
  const pageLink = (page: number) => ({ href: `${base}${listSearch(list, page)}` });
  const paged = list.perPage !== undefined;
  const linked = withLinks(
    {
      repository: repo.name,
      count: repo.tags?.length ?? 0,
      ...(paged ? { page: list.page, per_page: list.perPage, total } : {}),
    },
    {
      self: { href: `${base}${listSearch(list)}` },
      up: { href: repoHref(ctx, repo.name) },
      first: paged ? pageLink(1) : undefined,
      prev: paged && list.page > 1 ? pageLink(Math.min(list.page - 1, lastPage)) : undefined,
      next: paged && list.page < lastPage ? pageLink(list.page + 1) : undefined,
      last: paged ? pageLink(lastPage) : undefined,
      items: items.map((t) => ({ href: tagHref(ctx, repo.name, t.name), title: t.name })),
    },
    ctx,
  );
  if (depth < 1) return linked;
  return { ...linked, _embedded: items.length ? { items: items.map((t) => tagResource(repo, t, ctx)) } : {} };
}

/** `GET /repositories/{name}/tags/{tag}`. */
export function tagResource(repo: RepoUsage, tag: TagUsage, ctx: HalContext): Json {
  return withLinks(
    tagFields(tag),
    {
      self: { href: tagHref(ctx, repo.name, tag.name) },
      collection: { href: tagsHref(ctx, repo.name) },
      up: { href: repoHref(ctx, repo.name) },
    },
    ctx,
  );
}
