import type { Db } from "../db/client";
import { QUEUES } from "../jobs/queue";
import { BUCKET_MS, bucketStart, type BucketSeries } from "../metrics/buckets";
import { formatValue, renderChart, type ChartSeries, type ChartSpec, type Unit } from "./charts";

export const RANGES = {
  "24h": { ms: 86_400_000, stepMs: BUCKET_MS, text: "24 hours", step: "5 minutes" },
  "7d": { ms: 7 * 86_400_000, stepMs: 3_600_000, text: "7 days", step: "hour" },
} as const;
export type Range = keyof typeof RANGES;

export interface DashboardQuery {
  range: Range;
  /** The operator's zone (src/console/time-zone.ts): the axes are in its local time. */
  zone: string;
}

/** An unknown range falls back to 24 hours: a console page answers whatever the address says. */
export function parseDashboardQuery(query: Record<string, unknown>, zone: string): DashboardQuery {
  return { range: query.range === "7d" ? "7d" : "24h", zone };
}

interface Row {
  series: BucketSeries;
  label: string;
  step: Date;
  total: number;
  samples: number;
  max: number | null;
}

/** One series' values per step, by label. */
type Columns = Map<string, { total: number[]; samples: number[]; max: (number | null)[] }>;

export interface Panel {
  chart: ChartSpec;
  svg: string;
  /** False: nothing was recorded for it in the range ("no data yet"). */
  hasData: boolean;
  legend: { name: string; colour: string; total?: string }[];
  /** Figures beside the chart: `[["Requests", "1,234"], …]`. */
  totals: [string, string][];
}

const sum = (values: (number | null)[]) => values.reduce<number>((a, b) => a + (b ?? 0), 0);
const maxOf = (values: (number | null)[]) => Math.max(0, ...values.map((v) => v ?? 0));

/** Reads the range's buckets, added up per step (5 minutes for a day, an hour for a week). */
async function read(db: Db, range: Range, now: number) {
  const { ms, stepMs } = RANGES[range];
  const end = bucketStart(now) + BUCKET_MS;
  const start = Math.floor((end - ms) / stepMs) * stepMs;
  const times = Array.from({ length: Math.ceil((end - start) / stepMs) }, (_, i) => start + i * stepMs);
  const rows = await db.$queryRaw<Row[]>`
    SELECT series, label,
           date_bin(make_interval(secs => ${stepMs / 1000}::float8), bucket_start, timestamptz 'epoch') AS step,
           sum(total)::float8 AS total, sum(samples)::float8 AS samples, max(max) AS max
      FROM metric_buckets
     WHERE bucket_start >= ${new Date(start)} AND bucket_start < ${new Date(end)}
     GROUP BY 1, 2, 3`;
  const bySeries = new Map<string, Columns>();
  for (const row of rows) {
    const i = Math.floor((row.step.getTime() - start) / stepMs);
    if (i < 0 || i >= times.length) continue;
    const columns = bySeries.get(row.series) ?? new Map();
    bySeries.set(row.series, columns);
    const column = columns.get(row.label) ?? {
      total: times.map(() => 0),
      samples: times.map(() => 0),
      max: times.map(() => null),
    };
    columns.set(row.label, column);
    column.total[i] = row.total;
    column.samples[i] = row.samples;
    column.max[i] = row.max;
  }
  return { times, stepMs, series: (name: BucketSeries): Columns => bySeries.get(name) ?? new Map() };
}

type Read = Awaited<ReturnType<typeof read>>;

/** Labels in a fixed order with their names and colours; labels not listed follow, in grey. */
type Known = [label: string, name: string, colour: string][];

function stacked(columns: Columns, known: Known, value: "total" | "max" = "total"): ChartSeries[] {
  const listed = known.filter(([label]) => columns.has(label));
  const others = [...columns.keys()].filter((l) => !known.some(([k]) => k === l)).sort();
  return [
    ...listed.map(([label, name, colour]) => ({ name, colour, values: columns.get(label)![value] })),
    ...others.map((label) => ({ name: label, colour: "c-neutral", values: columns.get(label)![value] })),
  ];
}

/** Each queue in words, for the legend; /metrics keeps the queue's own name as its label. */
const QUEUE_NAMES: Known = [
  [QUEUES.webhook, "Webhook deliveries", "c-1"],
  [QUEUES.bulkItem, "Bulk job blocks", "c-2"],
  [QUEUES.planBlock, "Block plan blocks", "c-3"],
  [QUEUES.locationMint, "Sub-accounts connecting", "c-4"],
  [QUEUES.installDiscovery, "Agency installs listing sub-accounts", "c-5"],
  [QUEUES.locationDetails, "Sub-account names and zones", "c-6"],
];

function panel(
  data: Read,
  q: DashboardQuery,
  chart: { id: string; title: string; kind: "bars" | "lines"; unit: Unit; series: ChartSeries[]; desc: string },
  totals: [string, string][],
  legendTotals = true,
): Panel {
  const spec: ChartSpec = { ...chart, times: data.times, stepMs: data.stepMs, zone: q.zone };
  const hasData = chart.series.length > 0;
  return {
    chart: spec,
    svg: hasData ? renderChart(spec) : "",
    hasData,
    legend: chart.series.map((s) => ({
      name: s.name,
      colour: s.colour,
      ...(legendTotals ? { total: formatValue(sum(s.values), "count") } : {}),
    })),
    totals,
  };
}

const percent = (part: number, whole: number) => (whole > 0 ? formatValue((part / whole) * 100, "percent") : "—");

/** The dashboard's panels for `q.range`, ending with the current bucket. */
export async function loadDashboard(db: Db, q: DashboardQuery, now = Date.now()): Promise<Panel[]> {
  const data = await read(db, q.range, now);
  const per = `per ${RANGES[q.range].step}`;
  const over = `over the last ${RANGES[q.range].text}`;

  const hl = data.series("highlevel_requests");
  const hlSeries = stacked(hl, [
    ["ok", "Answered", "c-good"],
    ["4xx", "Refused (4xx)", "c-warn"],
    ["429", "Rate-limited (429)", "c-2"],
    ["5xx", "Server errors (5xx)", "c-bad"],
    ["error", "No answer", "c-1"],
  ]);
  const hlTotal = sum(hlSeries.flatMap((s) => s.values));
  const hlOk = sum(hl.get("ok")?.total ?? []);
  const hlErrors = hlTotal - hlOk;
  const errorRate = data.times.map((_, i) => {
    const all = hlSeries.reduce((a, s) => a + (s.values[i] ?? 0), 0);
    return all > 0 ? ((all - (hl.get("ok")?.total[i] ?? 0)) / all) * 100 : null;
  });

  const refreshes = stacked(data.series("token_refreshes"), [
    ["ok", "Renewed", "c-good"],
    ["invalid_grant", "Refused (invalid_grant)", "c-bad"],
    ["inactive", "App inactive", "c-warn"],
    ["error", "Failed, will retry", "c-1"],
  ]);
  const refreshTotal = sum(refreshes.flatMap((s) => s.values));

  // The largest sample in each step: a depth and an age are levels, not counts to add up.
  const queueLines = (name: BucketSeries) => stacked(data.series(name), QUEUE_NAMES, "max");
  const depth = queueLines("queue_waiting");
  const age = queueLines("queue_oldest_seconds");

  const deliveries = stacked(data.series("webhook_deliveries"), [
    ["processed", "Processed", "c-good"],
    ["ignored", "Ignored", "c-neutral"],
    ["retry", "Failed, will retry", "c-warn"],
    ["deferred", "Waiting for the rate limit", "c-2"],
    ["failed", "Failed for good", "c-bad"],
  ]);
  const lag = data.series("webhook_lag_seconds").get("");
  const lagAverage = lag && lag.total.map((t, i) => (lag.samples[i]! > 0 ? t / lag.samples[i]! : null));
  const lagSeries = lag
    ? [
        { name: "Average", colour: "c-1", values: lagAverage! },
        { name: "Slowest", colour: "c-bad", values: lag.max },
      ]
    : [];
  const lagCount = sum(lag?.samples ?? []);

  const blocks = stacked(data.series("blocks_created"), [
    ["api", "API", "c-1"],
    ["bulk", "Bulk jobs", "c-2"],
    ["plan", "Block plans", "c-3"],
    ["rule", "Blocking rules", "c-4"],
    ["trigger", "Trigger webhooks", "c-5"],
    ["page", "Custom page", "c-6"],
  ]);
  const blockTotal = sum(blocks.flatMap((s) => s.values));

  return [
    panel(
      data,
      q,
      {
        id: "highlevel",
        title: "Calls to HighLevel",
        kind: "bars",
        unit: "count",
        series: hlSeries,
        desc: `Calls the app made to HighLevel ${per}, by answer, ${over}: ${hlTotal} in all, ${hlErrors} not answered with success.`,
      },
      [
        ["Calls", formatValue(hlTotal, "count")],
        ["Not successful", formatValue(hlErrors, "count")],
        ["Error rate", percent(hlErrors, hlTotal)],
      ],
    ),
    panel(
      data,
      q,
      {
        id: "error-rate",
        title: "HighLevel error rate",
        kind: "lines",
        unit: "percent",
        series: hlSeries.length ? [{ name: "Calls not successful", colour: "c-bad", values: errorRate }] : [],
        desc: `Share of calls to HighLevel ${per} not answered with success, ${over}: ${percent(hlErrors, hlTotal)} overall.`,
      },
      [
        ["Overall", percent(hlErrors, hlTotal)],
        ["Worst step", hlSeries.length ? formatValue(maxOf(errorRate), "percent") : "—"],
      ],
      false,
    ),
    panel(
      data,
      q,
      {
        id: "refreshes",
        title: "Token renewals",
        kind: "bars",
        unit: "count",
        series: refreshes,
        desc: `Token renewals asked of HighLevel ${per}, by outcome, ${over}: ${refreshTotal} in all.`,
      },
      [
        ["Renewals", formatValue(refreshTotal, "count")],
        ["Renewed", formatValue(sum(data.series("token_refreshes").get("ok")?.total ?? []), "count")],
      ],
    ),
    panel(
      data,
      q,
      {
        id: "queue-depth",
        title: "Jobs waiting in the queue",
        kind: "lines",
        unit: "count",
        series: depth,
        desc: `Largest number of jobs waiting to be worked ${per}, by queue, sampled each minute, ${over}.`,
      },
      [["Most waiting", formatValue(maxOf(depth.flatMap((s) => s.values)), "count")]],
      false,
    ),
    panel(
      data,
      q,
      {
        id: "queue-age",
        title: "Oldest waiting job",
        kind: "lines",
        unit: "seconds",
        series: age,
        desc: `How long the longest-waiting job that is due has waited ${per}, by queue, sampled each minute, ${over}. Work put off until a rate limit resets counts from then.`,
      },
      [["Oldest seen", formatValue(maxOf(age.flatMap((s) => s.values)), "seconds")]],
      false,
    ),
    panel(
      data,
      q,
      {
        id: "webhooks",
        title: "Webhook deliveries worked",
        kind: "bars",
        unit: "count",
        series: deliveries,
        desc: `Attempts at webhook deliveries ${per}, by outcome, ${over}: ${sum(deliveries.flatMap((s) => s.values))} in all.`,
      },
      [["Attempts", formatValue(sum(deliveries.flatMap((s) => s.values)), "count")]],
    ),
    panel(
      data,
      q,
      {
        id: "webhook-lag",
        title: "Webhook lag",
        kind: "lines",
        unit: "seconds",
        series: lagSeries,
        desc: `Time from a webhook's event (HighLevel's timestamp, or its receipt) to its processing ${per}, average and slowest, ${over}.`,
      },
      [
        ["Deliveries done", formatValue(lagCount, "count")],
        ["Average", lag && lagCount > 0 ? formatValue(sum(lag.total) / lagCount, "seconds") : "—"],
        ["Slowest", lag ? formatValue(maxOf(lag.max), "seconds") : "—"],
      ],
      false,
    ),
    panel(
      data,
      q,
      {
        id: "blocks",
        title: "Blocks created",
        kind: "bars",
        unit: "count",
        series: blocks,
        desc: `Block slots created in HighLevel ${per}, by what made them, ${over}: ${blockTotal} in all.`,
      },
      [["Blocks", formatValue(blockTotal, "count")]],
    ),
  ];
}
