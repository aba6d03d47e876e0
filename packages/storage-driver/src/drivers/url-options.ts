import { WharfError } from "@wharf/errors";

/** The error for a storage URL that cannot be used: `invalid storage URL "…": why`, credentials hidden. */
export function invalidStorageUrl(url: string, why: string, cause?: unknown): WharfError {
  return new WharfError(
    "INVALID_ARGUMENT",
    `invalid storage URL ${JSON.stringify(redactUrl(url))}${why ? `: ${why}` : ""}`,
    cause === undefined ? {} : { cause },
  );
}

/** The URL with any `user:password@` replaced. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@]*@/, "//***@");
}

/** A `true|1|false|0` query option, `fallback` when absent. */
export function booleanOption(
  url: string,
  params: URLSearchParams,
  name: string,
  fallback: boolean,
): boolean {
  const value = params.get(name);
  if (value === null) return fallback;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw invalidStorageUrl(url, `${name} must be true or false`);
}

/** A boolean the URL may leave out (then absent from the result: the driver finds out). */
export function optionalBoolean<N extends string>(
  url: string,
  params: URLSearchParams,
  name: N,
): Partial<Record<N, boolean>> {
  return params.get(name) === null
    ? {}
    : ({ [name]: booleanOption(url, params, name, false) } as Record<N, boolean>);
}

/** An integer query option of at least `min`, undefined when absent. */
export function integerOption(
  url: string,
  params: URLSearchParams,
  name: string,
  min: number,
): number | undefined {
  const value = params.get(name);
  if (value === null) return undefined;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < min)
    throw invalidStorageUrl(url, `${name} must be an integer >= ${min}`);
  return number;
}

/** A key prefix from a URL path: empty, or ending with `/`. */
export function prefixFromPath(url: string, path: string): string {
  const prefix = decodeURIComponent(path);
  if (prefix !== "" && !prefix.endsWith("/")) throw invalidStorageUrl(url, "the key prefix must end with /");
  return prefix;
}
