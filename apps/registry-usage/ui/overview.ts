import uPlot from "uplot";
import { formatBytes } from "../src/web/format.ts";
import { localizeDates } from "./dates.ts";

interface Point {
  timestamp: number;
  size: number;
  exclusive_size: number;
  unique_size: number;
}

/** The overview's chart of totals over time (`GET /history`), drawn with uPlot. */
async function drawHistory(el: HTMLElement): Promise<void> {
  const res = await fetch(el.dataset.src!, { headers: { accept: "application/json" } });
  if (!res.ok) return;
  const { points } = (await res.json()) as { points: Point[] };
  if (points.length === 0) {
    el.textContent = "No history yet: a point is recorded after each scan that changes the totals.";
    return;
  }
  const series = (label: string, stroke: string): uPlot.Series => ({
    label,
    stroke,
    width: 2,
    points: { show: true, size: 5 },
    value: (_u, v) => (v == null ? "—" : formatBytes(v)),
  });
  const chart = new uPlot(
    {
      width: Math.max(320, el.clientWidth),
      height: 240,
      series: [{}, series("Size", "#1f5fa8"), series("Unique", "#2a8a4a"), series("Exclusive", "#b5541c")],
      // One point (the first scan) gets a day either side instead of uPlot's default range.
      scales: {
        x: { time: true, range: (_u, min, max) => (min === max ? [min - 86_400, max + 86_400] : [min, max]) },
      },
      axes: [{}, { values: (_u, ticks) => ticks.map((t) => formatBytes(t)), size: 80 }],
    },
    [
      points.map((p) => p.timestamp),
      points.map((p) => p.size),
      points.map((p) => p.unique_size),
      points.map((p) => p.exclusive_size),
    ],
    el,
  );
  el.dataset.points = String(points.length);
  chart.root.setAttribute("role", "img");
  chart.root.setAttribute("aria-label", `Totals over time, ${points.length} points`);
}

localizeDates();
const history = document.getElementById("history-chart");
if (history) void drawHistory(history);
