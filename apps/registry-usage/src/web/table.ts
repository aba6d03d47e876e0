import { formatBytes } from "./format.ts";
import { esc } from "./layout.ts";
import { type View, viewSearch } from "./view.ts";

export interface Column<T> {
  readonly key: string;
  readonly label: string;
  /** Sortable on the server under this key. */
  readonly sort?: string;
  readonly bytes?: boolean;
  readonly cell: (row: T) => string | number | null | undefined;
}

/** Bytes as `<data value="exact">human</data>`: people read the unit, tests and scripts the value. */
export const bytesCell = (value: number | null | undefined) =>
  value === null || value === undefined ? "—" : `<data value="${value}">${formatBytes(value)}</data>`;

/** A date the browser rewrites in the viewer's locale (ui/dates.ts); ISO text without script. */
export function timeCell(seconds: number | undefined, none = "never"): string {
  if (seconds === undefined) return none;
  const iso = new Date(seconds * 1000).toISOString();
  return `<time datetime="${iso}">${iso}</time>`;
}

/** A table sorted on the server: each sortable header links to the view sorted by it. */
export function table<T>(options: {
  readonly caption: string;
  readonly view: View;
  readonly columns: readonly Column<T>[];
  readonly rows: readonly T[];
  readonly rowKey: (row: T) => string;
}): string {
  const { view } = options;
  const head = options.columns.map((col) => {
    if (!col.sort) return `<th scope="col">${esc(col.label)}</th>`;
    const active = view.sort === col.sort;
    const next = active && !view.descending ? `-${col.sort}` : col.sort;
    const aria = active ? ` aria-sort="${view.descending ? "descending" : "ascending"}"` : "";
    const arrow = active ? (view.descending ? " ↓" : " ↑") : "";
    return `<th scope="col"${aria}${col.bytes ? ' class="num"' : ""}><a href="${esc(viewSearch(view, { sort: next, page: 1 }))}">${esc(col.label)}${arrow}</a></th>`;
  });
  const rows = options.rows.map((row) => {
    const cells = options.columns.map((col) => {
      const value = col.cell(row);
      const text = col.bytes ? bytesCell(value as number | null) : String(value ?? "—");
      return `<td${col.bytes ? ' class="num"' : ""}>${text}</td>`;
    });
    return `<tr data-key="${esc(options.rowKey(row))}">${cells.join("")}</tr>`;
  });
  return `<table class="data"><caption>${esc(options.caption)}</caption><thead><tr>${head.join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** Filter form, pager and the links that reproduce the view and fetch its JSON. */
export function viewControls(
  view: View,
  total: number,
  jsonHref: string,
  label: string,
): {
  filter: string;
  pager: string;
} {
  const last = Math.max(1, Math.ceil(total / view.perPage));
  const page = Math.min(view.page, last);
  const link = (p: number, text: string, rel: string) =>
    `<a rel="${rel}" href="${esc(viewSearch(view, { page: p }))}">${text}</a>`;
  const sort = `${view.descending ? "-" : ""}${view.sort ?? "name"}`;
  const filter = `<form class="filter" role="search" method="get"><label for="q">Filter ${esc(label)} by name</label> <input id="q" name="q" type="search" value="${esc(view.filter ?? "")}"><input type="hidden" name="sort" value="${esc(sort)}"><input type="hidden" name="per_page" value="${view.perPage}"> <button type="submit">Filter</button></form>`;
  const pager = `<nav class="pager" aria-label="${esc(label)} pages">${page > 1 ? link(page - 1, "← Previous", "prev") : ""} <span id="page-info">Page ${page} of ${last} (${total} ${esc(label)})</span> ${page < last ? link(page + 1, "Next →", "next") : ""}</nav><p class="links"><a id="permalink" href="${esc(viewSearch(view))}">Link to this view</a> · <a id="json-link" href="${esc(jsonHref)}">JSON</a></p>`;
  return { filter, pager };
}
