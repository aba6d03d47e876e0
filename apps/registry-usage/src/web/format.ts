const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/**
 * Bytes in binary units as `du -h` shows them: one decimal below 10 (rounded up), whole numbers
 * above, `B` without decimals.
 *
 * @example formatBytes(1536) // "1.5 KiB"
 */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return "—";
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${bytes} B`;
  const shown = value < 10 ? Math.ceil(value * 10) / 10 : Math.ceil(value);
  if (shown >= 1024 && unit < units.length - 1) return `1.0 ${units[unit + 1]}`;
  return `${value < 10 ? shown.toFixed(1) : shown} ${units[unit]}`;
}
