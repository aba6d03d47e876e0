import { repositoriesResource } from "../hal.ts";
import { pageOf } from "../query.ts";
import type { RepoUsage } from "../usage.ts";
import { barChart } from "./bars.ts";
import type { Prepared } from "./dashboard.ts";
import { esc, page } from "./layout.ts";
import { bytesCell, type Column, table, timeCell, viewControls } from "./table.ts";
import { type View, viewSearch } from "./view.ts";

export function overviewPage(options: {
  readonly prefix: string;
  readonly user: string;
  readonly prepared: Prepared;
  readonly view: View;
}): string {
  const { prefix, view } = options;
  const { usage, status, ctx } = options.prepared;
  const repoPage = (name: string) => `${prefix}/dashboard/repositories/${encodeURIComponent(name)}`;
  const totals = repositoriesResource(usage, status, ctx, 0) as Record<string, number | undefined>;
  const shared = ctx.seesAll ? totals.shared_size : undefined;
  const dl = [
    ["size", "Size", bytesCell(totals.size)],
    ["disk_size", "Disk size", bytesCell(totals.disk_size)],
    ["exclusive_size", "Exclusive", bytesCell(totals.exclusive_size)],
    ["shared_size", "Shared", bytesCell(shared)],
    [
      "repository_count",
      "Repositories",
      `<data value="${totals.repository_count}">${totals.repository_count}</data>`,
    ],
    ["tag_count", "Tags", `<data value="${totals.tag_count}">${totals.tag_count}</data>`],
  ].map(([key, label, value]) => `<div data-total="${key}"><dt>${label}</dt><dd>${value}</dd></div>`);
  const visible = usage.repositories.filter((r) => ctx.visible(r.name));
  const { items, total } = pageOf(visible, view);
  const columns: Column<RepoUsage>[] = [
    {
      key: "name",
      label: "Repository",
      sort: "name",
      cell: (r) => `<a href="${esc(repoPage(r.name))}">${esc(r.name)}</a>`,
    },
    { key: "tag_count", label: "Tags", cell: (r) => r.tag_count },
    { key: "size", label: "Size", sort: "size", bytes: true, cell: (r) => r.size },
    { key: "disk_size", label: "Disk size", sort: "disk_size", bytes: true, cell: (r) => r.disk_size },
    { key: "unique_size", label: "Unique", sort: "unique_size", bytes: true, cell: (r) => r.unique_size },
    {
      key: "exclusive_size",
      label: "Exclusive",
      sort: "exclusive_size",
      bytes: true,
      cell: (r) => r.exclusive_size,
    },
    { key: "shared_size", label: "Shared", sort: "shared_size", bytes: true, cell: (r) => r.shared_size },
  ];
  const controls = viewControls(view, total, `${ctx.base}${viewSearch(view)}&format=json`, "repositories");
  const history = ctx.seesAll
    ? `<section aria-labelledby="history-h"><h2 id="history-h">Totals over time</h2><div id="history-chart" class="chart" data-src="${prefix}/history"></div><p class="links"><a href="${prefix}/history">History JSON</a></p></section>`
    : "";
  const body = `<h1>Registry usage</h1>
<section aria-labelledby="totals-h"><h2 id="totals-h">Totals</h2><dl class="totals">${dl.join("")}</dl>
<p class="scan">Last scan: ${timeCell(status.last_success ?? usage.timestamp)} · status <strong id="scan-state">${esc(status.state)}</strong>${status.running ? " (scanning now)" : ""}${status.last_error ? ` · last error: ${esc(status.last_error)}` : ""}</p></section>
<section aria-labelledby="bars-h"><h2 id="bars-h">Exclusive size of the repositories shown</h2>${barChart(
    "Repositories by exclusive size",
    items.map((r) => ({ name: r.name, value: r.exclusive_size ?? 0, href: repoPage(r.name) })),
  )}</section>
${history}
<section aria-labelledby="repos-h"><h2 id="repos-h">Repositories</h2>${controls.filter}${table({
    caption: "Repositories (sorted on the server; choose a column header to sort)",
    view,
    columns,
    rows: items,
    rowKey: (r) => r.name,
  })}${controls.pager}</section>`;
  return page({ prefix, title: "Overview", user: options.user, body, script: "overview" });
}
