import { WharfError } from "@wharf/errors";

export const sortKeys = [
  "name",
  "size",
  "disk_size",
  "unique_size",
  "exclusive_size",
  "shared_size",
] as const;
export type SortKey = (typeof sortKeys)[number];

export interface ListQuery {
  /** 1-based; only with `perPage`. */
  readonly page: number;
  /** Undefined: every item (the original's behaviour). */
  readonly perPage?: number;
  readonly sort?: SortKey;
  readonly descending: boolean;
  /** `q`: only items whose name contains this (case-insensitive). */
  readonly filter?: string;
}

export interface HalQuery {
  readonly links: boolean;
  /** Levels of `_embedded`; `Infinity` for `embed=true`. */
  readonly embed: number;
  readonly list: ListQuery;
}

const truthy = ["true", "yes", "1", "t", "y"];
const sortAliases: Record<string, SortKey> = {
  exclusive: "exclusive_size",
  shared: "shared_size",
  unique: "unique_size",
};

function positive(name: string, value: string | null, max: number): number | undefined {
  if (value === null || value === "") return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new WharfError("INVALID_ARGUMENT", `${name} must be a whole number from 1 to ${max}`);
  }
  return n;
}

/**
 * The query parameters: flask-restful-hal's `links` and `embed` (same accepted values), plus
 * `page`/`per_page`, `sort` (`size`, `-size`, or `sort=size&order=desc`) and `q` (name contains).
 */
export function parseHalQuery(params: URLSearchParams): HalQuery {
  const links = truthy.includes((params.get("links") ?? "").toLowerCase());
  const embedRaw = (params.get("embed") ?? "").toLowerCase();
  const embed = /^\d+$/.test(embedRaw)
    ? Number(embedRaw)
    : truthy.includes(embedRaw)
      ? Number.POSITIVE_INFINITY
      : 0;
  const perPage = positive("per_page", params.get("per_page"), 1000);
  const page = positive("page", params.get("page"), Number.MAX_SAFE_INTEGER) ?? 1;
  let sortRaw = params.get("sort") ?? "";
  let descending = false;
  if (sortRaw.startsWith("-")) {
    descending = true;
    sortRaw = sortRaw.slice(1);
  }
  const order = (params.get("order") ?? "").toLowerCase();
  if (order !== "" && order !== "asc" && order !== "desc")
    throw new WharfError("INVALID_ARGUMENT", "order must be asc or desc");
  if (order === "desc") descending = true;
  let sort: SortKey | undefined;
  if (sortRaw !== "") {
    sort = sortAliases[sortRaw] ?? sortKeys.find((k) => k === sortRaw);
    if (!sort) throw new WharfError("INVALID_ARGUMENT", `sort must be one of ${sortKeys.join(", ")}`);
  }
  const filter = (params.get("q") ?? "").trim();
  return {
    links,
    embed,
    list: {
      page,
      ...(perPage ? { perPage } : {}),
      ...(sort ? { sort } : {}),
      descending,
      ...(filter ? { filter } : {}),
    },
  };
}

/** Sorts (nulls last either way) and cuts one page; `total` counts every item. */
export function pageOf<T extends { name: string }>(items: readonly T[], list: ListQuery) {
  const needle = list.filter?.toLowerCase();
  let sorted = needle ? items.filter((item) => item.name.toLowerCase().includes(needle)) : [...items];
  const key = list.sort;
  if (key) {
    const direction = list.descending ? -1 : 1;
    sorted.sort((a, b) => {
      const x = (a as Record<string, unknown>)[key] as string | number | null | undefined;
      const y = (b as Record<string, unknown>)[key] as string | number | null | undefined;
      if (x == null || y == null) return x == null ? (y == null ? 0 : 1) : -1;
      return (x < y ? -1 : x > y ? 1 : 0) * direction || a.name.localeCompare(b.name);
    });
  }
  const total = sorted.length;
  if (list.perPage) sorted = sorted.slice((list.page - 1) * list.perPage, list.page * list.perPage);
  return { items: sorted, total, lastPage: list.perPage ? Math.max(1, Math.ceil(total / list.perPage)) : 1 };
}

/** The list parameters as they appear in `self`/`next` links. */
export function listSearch(list: ListQuery, page?: number): string {
  const params = new URLSearchParams();
  if (list.filter) params.set("q", list.filter);
  if (list.sort) params.set("sort", `${list.descending ? "-" : ""}${list.sort}`);
  if (list.perPage) {
    params.set("page", String(page ?? list.page));
    params.set("per_page", String(list.perPage));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}
