import { type ListQuery, listSearch, parseHalQuery } from "../query.ts";

/** What a table view shows (`q`, `sort`, `page`, `per_page`), always paged. */
export type View = ListQuery & { readonly perPage: number };

/** The view in the URL, with the page's default sort and page size. */
export function parseView(params: URLSearchParams, defaults: { sort: string; perPage: number }): View {
  const merged = new URLSearchParams(params);
  if (!merged.get("sort")) merged.set("sort", defaults.sort);
  if (!merged.get("per_page")) merged.set("per_page", String(defaults.perPage));
  const { list } = parseHalQuery(merged);
  return { ...list, perPage: list.perPage ?? defaults.perPage };
}

/** The query string that reproduces `view` (the API's own parameters), with `changes` applied. */
export function viewSearch(view: View, changes: { sort?: string; page?: number } = {}): string {
  let list: ListQuery = view;
  if (changes.sort) {
    const descending = changes.sort.startsWith("-");
    list = { ...view, sort: changes.sort.replace(/^-/, "") as View["sort"], descending };
  }
  return listSearch(list, changes.page);
}
