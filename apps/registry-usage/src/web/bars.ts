import { formatBytes } from "./format.ts";
import { esc } from "./layout.ts";

export interface Bar {
  readonly name: string;
  readonly value: number;
  readonly href: string;
}

/**
 * A sorted horizontal bar chart as SVG drawn by the server: one `rect` per item, widths as
 * attributes (no inline style, CSP), a `<title>` and a text label each, readable without script.
 */
export function barChart(label: string, items: readonly Bar[]): string {
  const sorted = [...items].sort((a, b) => b.value - a.value || a.name.localeCompare(b.name));
  const max = Math.max(1, ...sorted.map((b) => b.value));
  const row = 22;
  const width = 600;
  const rows = sorted.map((bar, i) => {
    const w = Math.max(1, Math.round((bar.value / max) * width));
    const y = i * row;
    return `<a href="${esc(bar.href)}" aria-label="${esc(bar.name)}: ${formatBytes(bar.value)}"><rect class="bar" data-name="${esc(bar.name)}" data-value="${bar.value}" x="0" y="${y}" width="${w}" height="${row - 4}"><title>${esc(bar.name)}: ${formatBytes(bar.value)}</title></rect><text x="${width + 8}" y="${y + row - 9}">${esc(bar.name)} ${formatBytes(bar.value)}</text></a>`;
  });
  const height = Math.max(row, sorted.length * row);
  return `<svg class="bars" role="group" aria-label="${esc(label)}" viewBox="0 0 ${width + 320} ${height}" width="100%">${rows.join("")}</svg>`;
}
