/** Request headers as Node's `IncomingHttpHeaders`, a plain record, or a fetch `Headers`. */
export type HeaderSource =
  | Headers
  | Readonly<Record<string, string | readonly string[] | number | undefined>>;

/** Case-insensitive lookup; repeated headers are joined with `,` as HTTP folds them. */
export function getHeader(headers: HeaderSource | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  let value = headers[name];
  if (value === undefined) {
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === name) {
        value = headers[key];
        break;
      }
    }
  }
  if (value === undefined) return undefined;
  if (typeof value === "number") return String(value);
  return typeof value === "string" ? value : value.join(",");
}
