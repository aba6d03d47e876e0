/** `20240506T070809Z`: the ISO 8601 basic format SigV4 uses, to the second. */
export function formatAmzDate(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/[-:]|\.\d{3}/g, "");
}

/** `2024-05-06T07:08:09Z`: the POST policy `expiration` format (ISO 8601 without milliseconds). */
export function formatIsoSeconds(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Parses `20240506T070809Z` to epoch milliseconds, or `undefined` when malformed. */
export function parseAmzDate(value: string): number | undefined {
  const match = AMZ_DATE.exec(value);
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(ms);
  if (check.getUTCDate() !== d || check.getUTCMonth() !== mo - 1 || h > 23 || mi > 59 || s > 59)
    return undefined;
  return ms;
}

export function toEpochMs(now: Date | number | undefined): number {
  if (now === undefined) return Date.now();
  return typeof now === "number" ? now : now.getTime();
}

/** Caches the formatted date for the current second: presigning many URLs per second formats once. */
export function createAmzDateClock(): (epochMs: number) => string {
  let second = Number.NaN;
  let formatted = "";
  return (epochMs) => {
    const current = Math.floor(epochMs / 1000);
    if (current !== second) {
      second = current;
      formatted = formatAmzDate(current * 1000);
    }
    return formatted;
  };
}
