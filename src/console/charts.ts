import { DateTime } from "luxon";

/** How values are written on an axis and in totals. */
export type Unit = "count" | "seconds" | "percent";

export interface ChartSeries {
  name: string;
  /** A colour class of public/style.css (`c-good`, `c-bad`, `c-1` …). */
  colour: string;
  /** One value per step; null: nothing known for that step (a gap in a line). */
  values: (number | null)[];
}

export interface ChartSpec {
  id: string;
  title: string;
  /** What the chart shows, in words, for screen readers (the SVG's <desc>). */
  desc: string;
  kind: "bars" | "lines";
  unit: Unit;
  /** Start of each step, epoch ms. */
  times: number[];
  stepMs: number;
  /** The operator's time zone: the axis is in its local time. */
  zone: string;
  series: ChartSeries[];
}

/** Drawn about this wide in a panel, so text of 12 units reads at about the page's small print. */
const W = 480;
const H = 190;
const LEFT = 50;
const RIGHT = 10;
const TOP = 10;
const BOTTOM = 24;
const PLOT_W = W - LEFT - RIGHT;
const PLOT_H = H - TOP - BOTTOM;

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

const round = (n: number) => Math.round(n * 10) / 10;

/** `1,234`, `12.5k`, `45 s`, `3.5 min`, `2 h`, `12 %`. */
export function formatValue(value: number, unit: Unit): string {
  if (unit === "percent") return `${value < 10 && value % 1 !== 0 ? value.toFixed(1) : Math.round(value)} %`;
  if (unit === "seconds") {
    if (value < 1 && value > 0) return `${Math.round(value * 1000)} ms`;
    if (value < 90) return `${round(value)} s`;
    if (value < 5400) return `${round(value / 60)} min`;
    return `${round(value / 3600)} h`;
  }
  if (value >= 10_000) return `${round(value / 1000)}k`;
  if (value < 10 && value % 1 !== 0) return value.toFixed(1);
  return Math.round(value).toLocaleString("en-US");
}

/** Round durations for the top of a time axis, in seconds. */
const DURATIONS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400];

/** The smallest 1, 2 or 5 × 10ⁿ (a round duration for seconds) at or above `max`: a round top for the axis. */
export function niceMax(max: number, unit: Unit): number {
  // At least 1 (a call, a second, a percent): a finer percent axis labels 0 and its top alike ("0.0 %").
  if (!(max > 1)) return 1;
  if (unit === "seconds") {
    const round = DURATIONS.find((d) => d >= max);
    if (round) return round;
  }
  const power = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * power >= max) return m * power;
  return 10 * power;
}

/** Hour marks (every `everyHours`, local time) or midnights (every day) between start and end. */
export function timeTicks(
  start: number,
  end: number,
  zone: string,
  everyHours: number,
): { at: number; text: string }[] {
  const ticks: { at: number; text: string }[] = [];
  let t = DateTime.fromMillis(start, { zone }).startOf("hour");
  const daily = everyHours >= 24;
  if (daily) t = t.startOf("day");
  for (; t.toMillis() < end; t = daily ? t.plus({ days: 1 }) : t.plus({ hours: 1 })) {
    if (t.toMillis() < start) continue;
    if (daily) ticks.push({ at: t.toMillis(), text: t.toFormat("ccc d") });
    else if (t.hour % everyHours === 0)
      ticks.push({ at: t.toMillis(), text: t.hour === 0 ? t.toFormat("ccc d") : t.toFormat("HH:mm") });
  }
  return ticks;
}

/**
 * One chart as SVG markup, drawn on the server: no script, no library. Bars are stacked per step;
 * lines break where a value is unknown. `role="img"` with a <title> and <desc> names it for
 * screen readers; the totals beside it carry the figures in text.
 */
export function renderChart(spec: ChartSpec): string {
  const { times, stepMs } = spec;
  const start = times[0] ?? 0;
  const end = (times[times.length - 1] ?? 0) + stepMs;
  const x = (t: number) => LEFT + ((t - start) / (end - start)) * PLOT_W;
  const stackTops = times.map((_, i) =>
    spec.kind === "bars"
      ? spec.series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0)
      : Math.max(0, ...spec.series.map((s) => s.values[i] ?? 0)),
  );
  const top = niceMax(Math.max(0, ...stackTops), spec.unit);
  const y = (v: number) => TOP + PLOT_H - (v / top) * PLOT_H;
  const parts: string[] = [];

  // Grid and the value axis: 0, half and the top.
  for (const v of [0, top / 2, top]) {
    parts.push(`<line class="grid" x1="${LEFT}" x2="${W - RIGHT}" y1="${y(v)}" y2="${y(v)}"/>`);
    parts.push(
      `<text class="axis" x="${LEFT - 6}" y="${y(v) + 4}" text-anchor="end">${formatValue(v, spec.unit)}</text>`,
    );
  }
  const everyHours = end - start > 2 * 86_400_000 ? 24 : 3;
  for (const tick of timeTicks(start, end, spec.zone, everyHours)) {
    const tx = round(x(tick.at));
    parts.push(`<line class="tick" x1="${tx}" x2="${tx}" y1="${TOP + PLOT_H}" y2="${TOP + PLOT_H + 4}"/>`);
    parts.push(`<text class="axis" x="${tx}" y="${H - 8}" text-anchor="middle">${escape(tick.text)}</text>`);
  }

  if (spec.kind === "bars") {
    const width = Math.max(1, (PLOT_W / times.length) * 0.8);
    const base = times.map(() => 0);
    for (const s of spec.series) {
      const rects = times.flatMap((t, i) => {
        const v = s.values[i] ?? 0;
        if (v <= 0) return [];
        const y0 = y(base[i]!);
        base[i]! += v;
        const y1 = y(base[i]!);
        return [
          `<rect x="${round(x(t))}" y="${round(y1)}" width="${round(width)}" height="${round(Math.max(0.5, y0 - y1))}"/>`,
        ];
      });
      parts.push(`<g class="${escape(s.colour)}">${rects.join("")}</g>`);
    }
  } else {
    const known = (v: number | null | undefined): v is number => v !== null && v !== undefined;
    for (const s of spec.series) {
      let d = "";
      const dots: string[] = [];
      times.forEach((t, i) => {
        const v = s.values[i];
        if (!known(v)) return;
        const [px, py] = [round(x(t + stepMs / 2)), round(y(v))];
        const joined = known(s.values[i - 1]);
        d += `${joined ? "L" : "M"}${px} ${py}`;
        // A value with no known neighbour is a line of no length: a dot shows it (one sample, a webhook's lag).
        if (!joined && !known(s.values[i + 1])) dots.push(`<circle cx="${px}" cy="${py}" r="3"/>`);
      });
      parts.push(`<path class="line ${escape(s.colour)}" d="${d}"/>`);
      if (dots.length) parts.push(`<g class="${escape(s.colour)}">${dots.join("")}</g>`);
    }
  }
  parts.push(`<line class="baseline" x1="${LEFT}" x2="${W - RIGHT}" y1="${TOP + PLOT_H}" y2="${TOP + PLOT_H}"/>`);

  const id = escape(spec.id);
  return (
    `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${id}-title ${id}-desc">` +
    `<title id="${id}-title">${escape(spec.title)}</title><desc id="${id}-desc">${escape(spec.desc)}</desc>` +
    parts.join("") +
    `</svg>`
  );
}
