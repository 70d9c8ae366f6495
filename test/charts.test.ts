import { renderChart, type ChartSpec } from "../src/console/charts";

const HOUR = 3_600_000;
const start = Date.UTC(2026, 10, 28);

/** Twelve hourly steps in UTC, with the given series. */
const chart = (kind: ChartSpec["kind"], unit: ChartSpec["unit"], values: (number | null)[]): string =>
  renderChart({
    id: "c",
    title: "Chart",
    desc: "A chart",
    kind,
    unit,
    times: values.map((_, i) => start + i * HOUR),
    stepMs: HOUR,
    zone: "UTC",
    series: [{ name: "Series", colour: "c-1", values }],
  });

const axisLabels = (svg: string) => [...svg.matchAll(/text-anchor="end">([^<]*)</g)].map((m) => m[1]);

describe("dashboard charts", () => {
  it("shows a value with no neighbour in a line chart as a dot", () => {
    // One webhook worked all day: its lag is one sample, a line of no length without the dot.
    const svg = chart("lines", "seconds", [null, null, null, null, null, 0.4, null, null]);
    expect(svg.match(/<circle /g)).toHaveLength(1);
    // Joined values are a line, no dots.
    expect(chart("lines", "seconds", [null, 0.2, 0.4, null]).match(/<circle /g)).toBeNull();
  });

  it("labels a percent axis of nothing but zeros with distinct values", () => {
    const labels = axisLabels(chart("lines", "percent", [0, 0, 0, 0]));
    expect(labels).toEqual(["0 %", "0.5 %", "1 %"]);
  });
});
