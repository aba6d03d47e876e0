/**
 * `WHARF_DEV_PORT_OFFSET` for `./wharf start`: every port a dev profile owns (a variable whose name
 * contains PORT and whose value is a port number ≥ 1024, and the rest of a `…_FIRST` + `…_COUNT`
 * range) moves by the offset, in the environment and in the printed notes alike.
 */

const isOwnPort = (name: string, value: string) =>
  name.includes("PORT") && /^\d+$/.test(value) && Number(value) >= 1024;

/** Every port a profile owns, ranges expanded (FTP_DATA_PORTS_FIRST=30000, _COUNT=50 → 30000…30049). */
export function ownPorts(env: Record<string, string>): number[] {
  const ports = new Set<number>();
  for (const [name, value] of Object.entries(env)) {
    if (!isOwnPort(name, value)) continue;
    const first = Number(value);
    const count = name.endsWith("_FIRST") ? Number(env[name.replace(/_FIRST$/, "_COUNT")] ?? 1) : 1;
    for (let port = first; port < first + Math.max(count, 1); port++) ports.add(port);
  }
  return [...ports];
}

/**
 * Parses the offset; an offset that is not a whole number, or that pushes a profile's highest port
 * past 65535, is a problem stated in one line.
 */
export function parseOffset(raw: string | undefined, profiles: Record<string, string>[]): number {
  const offset = Number(raw ?? 0);
  if (!Number.isInteger(offset) || offset < 0)
    throw new Error(`WHARF_DEV_PORT_OFFSET must be a whole number ≥ 0, got ${JSON.stringify(raw)}`);
  const highest = Math.max(0, ...profiles.flatMap(ownPorts));
  if (highest + offset > 65_535)
    throw new Error(
      `WHARF_DEV_PORT_OFFSET=${offset} moves port ${highest} to ${highest + offset}, past 65535: use at most ${65_535 - highest}`,
    );
  return offset;
}

/** The profile's own ports moved by `offset`, as values and after a `:` in URLs such as PUBLIC_URL. */
export function shiftEnv(env: Record<string, string>, offset: number): Record<string, string> {
  if (offset === 0) return env;
  const own = new Set(ownPorts(env));
  return Object.fromEntries(
    Object.entries(env).map(([name, value]) => [
      name,
      isOwnPort(name, value)
        ? String(Number(value) + offset)
        : value.replace(/:(\d{4,5})\b/g, (match, port: string) =>
            own.has(Number(port)) ? `:${Number(port) + offset}` : match,
          ),
    ]),
  );
}

/** A note with every whole number that is one of the profile's own ports moved by `offset`. */
export function shiftNote(note: string, env: Record<string, string>, offset: number): string {
  if (offset === 0) return note;
  const own = new Set(ownPorts(env));
  return note.replace(/\b(\d{4,5})\b/g, (match, port: string) =>
    own.has(Number(port)) ? String(Number(port) + offset) : match,
  );
}
