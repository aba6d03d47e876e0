import type { Freed } from "../freed.ts";
import { pageOf } from "../query.ts";
import type { RepoUsage, TagUsage } from "../usage.ts";
import { formatBytes } from "./format.ts";
import { freedQuery } from "./freed-query.ts";
import { esc, page } from "./layout.ts";
import { bytesCell, type Column, table, timeCell, viewControls } from "./table.ts";
import { type View, viewSearch } from "./view.ts";

const architectures = (tag: TagUsage) =>
  tag.platforms ? esc(tag.platforms.map((p) => p.platform).join(", ")) : "—";

export function repositoryPage(options: {
  readonly prefix: string;
  readonly user: string;
  /** `<prefix>/repositories`. */
  readonly base: string;
  readonly repo: RepoUsage;
  readonly view: View;
  readonly selected: ReadonlySet<string>;
  readonly freed?: Freed;
}): string {
  const { prefix, repo, view, selected } = options;
  const q = encodeURIComponent(repo.name);
  const dl = [
    ["Size", repo.size],
    ["Disk size", repo.disk_size],
    ["Unique", repo.unique_size],
    ["Exclusive", repo.exclusive_size],
    ["Shared", repo.shared_size],
  ].map(([label, value]) => `<div><dt>${label}</dt><dd>${bytesCell(value as number | null)}</dd></div>`);
  const { items, total } = pageOf(repo.tags ?? [], view);
  const columns: Column<TagUsage>[] = [
    {
      key: "select",
      label: "Select",
      cell: (t) =>
        `<input type="checkbox" name="tag" value="${esc(t.name)}" aria-label="Select tag ${esc(t.name)}"${selected.has(t.name) ? " checked" : ""}>`,
    },
    { key: "name", label: "Tag", sort: "name", cell: (t) => esc(t.name) },
    { key: "size", label: "Size", sort: "size", bytes: true, cell: (t) => t.size },
    {
      key: "exclusive_size",
      label: "Exclusive",
      sort: "exclusive_size",
      bytes: true,
      cell: (t) => t.exclusive_size,
    },
    { key: "shared_size", label: "Shared", sort: "shared_size", bytes: true, cell: (t) => t.shared_size },
    { key: "disk_size", label: "Disk size", sort: "disk_size", bytes: true, cell: (t) => t.disk_size },
    { key: "kind", label: "Kind", cell: (t) => esc(t.kind) },
    { key: "architectures", label: "Architectures", cell: architectures },
    { key: "changed", label: "Changed (seen by a scan)", cell: (t) => timeCell(t.changed, "—") },
    {
      key: "digest",
      label: "Digest",
      cell: (t) => `<code title="${esc(t.digest)}">${esc(t.digest.slice(0, 19))}…</code>`,
    },
  ];
  const controls = viewControls(
    view,
    total,
    `${options.base}/${q}/tags${viewSearch(view)}&embed=1&format=json`,
    "tags",
  );
  const freedHref = `${prefix}/freed?${freedQuery(repo.name, selected)}`;
  const freed = options.freed
    ? `<data value="${options.freed.freed_size}">${esc(formatFreed(options.freed))}</data>`
    : "select tags";
  const sort = `${view.descending ? "-" : ""}${view.sort ?? "name"}`;
  const body = `<p><a href="${prefix}/dashboard">← Overview</a></p><h1>${esc(repo.name)}</h1>
<section aria-labelledby="repo-totals-h"><h2 id="repo-totals-h">Totals</h2><dl class="totals">${dl.join("")}<div><dt>Tags</dt><dd>${repo.tag_count ?? "—"}</dd></div></dl></section>
<section aria-labelledby="tags-h"><h2 id="tags-h">Tags</h2>${controls.filter}
<form id="freed-form" method="get" data-repository="${esc(repo.name)}" data-src="${prefix}/freed">
<input type="hidden" name="q" value="${esc(view.filter ?? "")}"><input type="hidden" name="sort" value="${esc(sort)}"><input type="hidden" name="page" value="${view.page}"><input type="hidden" name="per_page" value="${view.perPage}">
<p class="freed">Freed if the selected tags were deleted: <output id="freed" for="freed-form" aria-live="polite">${freed}</output> <button type="submit">Compute</button> <a id="freed-json" href="${esc(freedHref)}">JSON</a></p>
${table({ caption: `Tags of ${repo.name}`, view, columns, rows: items, rowKey: (t) => t.name })}</form>${controls.pager}</section>`;
  return page({ prefix, title: repo.name, user: options.user, body, script: "repository" });
}

function formatFreed(freed: Freed): string {
  return `${formatBytes(freed.freed_size)} (${freed.freed_blob_count} of ${freed.blob_count} blobs)`;
}
