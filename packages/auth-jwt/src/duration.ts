import { WharfError } from "@wharf/errors";

const secondsPerUnit: Record<string, number> = {
  s: 1,
  second: 1,
  seconds: 1,
  m: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hour: 3600,
  hours: 3600,
  d: 86_400,
  day: 86_400,
  days: 86_400,
  w: 604_800,
  week: 604_800,
  weeks: 604_800,
};

const pattern = /^\s*(\d+)\s*([a-z]+)\s*$/i;

/**
 * Seconds in a human duration: `N<unit>` or `N <unit>`, units s/m/h/d/w or their words, singular or
 * plural, any case (the original's `auth_token_expires` format). Throws `INVALID_ARGUMENT` otherwise.
 *
 * @example
 * parseDuration("2 weeks"); // 1209600
 * parseDuration("1h"); // 3600
 */
export function parseDuration(value: string): number {
  const match = pattern.exec(value);
  const unit = match ? secondsPerUnit[match[2]!.toLowerCase()] : undefined;
  const amount = match ? Number(match[1]) : Number.NaN;
  if (unit === undefined || !Number.isSafeInteger(amount * unit)) {
    throw new WharfError("INVALID_ARGUMENT", `"${value}" cannot be parsed.`, {
      details: { reason: "bad_duration" },
    });
  }
  return amount * unit;
}
