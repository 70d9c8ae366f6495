import fs from "node:fs";
import path from "node:path";
import { parser } from "@prometheus-io/lezer-promql";
import pino from "pino";
import { parse } from "yaml";
import type { Db } from "../src/db/client";
import { InstallStatus } from "../src/generated/prisma/enums";
import { QUEUES } from "../src/jobs/queue";
import { AppMetrics } from "../src/metrics/metrics";

/**
 * The alerting rules operators copy into Prometheus (docs/prometheus-alerts.yml). A rule naming a
 * series or label the app does not export never fires, silently: so each expression is parsed with
 * Prometheus's own PromQL grammar and every selector checked against the app's registry.
 */
const FILE = path.join(__dirname, "..", "docs", "prometheus-alerts.yml");

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Label values the app can give, where they are a closed set. */
const VALUES: Record<string, Record<string, readonly string[]>> = {
  installations: { status: Object.values(InstallStatus) },
  token_refreshes_total: { owner: ["location", "company"], outcome: ["ok", "invalid_grant", "inactive", "error"] },
  webhook_deliveries_total: { outcome: ["processed", "ignored", "retry", "failed", "deferred"] },
  queue_oldest_job_age_seconds: { queue: Object.values(QUEUES) },
};
/** Series Prometheus makes itself for each target. */
const TARGET_SERIES: Record<string, string[]> = { up: ["job", "instance"] };

/** Every series the app exports, with its label names (a histogram's as Prometheus stores them). */
function exported(): Map<string, Set<string>> {
  const metrics = new AppMetrics();
  metrics.collectFrom({} as Db, pino({ level: "silent" })); // registers the gauges; nothing is read
  const series = new Map<string, Set<string>>();
  for (const metric of metrics.registry.getMetricsAsArray()) {
    const { name, labelNames = [] } = metric as unknown as { name: string; labelNames?: string[] };
    const type = (metric as unknown as { type: string }).type;
    if (type === "histogram") {
      series.set(`${name}_bucket`, new Set([...labelNames, "le"]));
      series.set(`${name}_sum`, new Set(labelNames));
      series.set(`${name}_count`, new Set(labelNames));
    } else series.set(name, new Set(labelNames));
  }
  for (const [name, labels] of Object.entries(TARGET_SERIES)) series.set(name, new Set(labels));
  return series;
}

interface Selector {
  metric: string;
  matchers: { label: string; op: string; value: string }[];
}

/** The expression's syntax errors (their offsets) and its series selectors. */
function read(expr: string): { errors: number[]; selectors: Selector[] } {
  const errors: number[] = [];
  const selectors: Selector[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(node.from);
      if (node.name !== "VectorSelector") return;
      const selector: Selector = { metric: "", matchers: [] };
      const cursor = node.node.cursor();
      cursor.iterate((inner) => {
        const text = expr.slice(inner.from, inner.to);
        if (inner.name === "Identifier") selector.metric = text;
        if (inner.name === "LabelName") selector.matchers.push({ label: text, op: "", value: "" });
        const last = selector.matchers.at(-1);
        if (inner.name === "MatchOp" && last) last.op = text;
        if (inner.name === "StringLiteral" && last) last.value = JSON.parse(text) as string;
      });
      selectors.push(selector);
    },
  });
  return { errors, selectors };
}

const rules: Rule[] = (
  parse(fs.readFileSync(FILE, "utf8")) as { groups: { name: string; rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);
const series = exported();

describe("the alerting rules shipped for Prometheus", () => {
  it("cover what operators ask about: errors, HighLevel, tokens, the queue, webhooks", () => {
    const named = new Set(rules.flatMap((r) => read(r.expr).selectors.map((s) => s.metric)));
    for (const metric of [
      "http_requests_total",
      "highlevel_requests_total",
      "highlevel_429_total",
      "token_refreshes_total",
      "installations",
      "queue_oldest_job_age_seconds",
      "webhook_deliveries_total",
    ]) {
      expect([...named]).toContain(metric);
    }
  });

  it.each(rules.map((r) => [r.alert, r] as const))("%s is well formed", (_name, rule) => {
    expect(rule.alert).toMatch(/^[A-Z][A-Za-z0-9]+$/);
    expect(["critical", "warning"]).toContain(rule.labels?.severity);
    expect(rule.annotations?.summary).toBeTruthy();
    expect(rule.annotations?.description).toBeTruthy();
    if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/);
    expect(read(rule.expr).errors).toEqual([]);
  });

  it.each(rules.map((r) => [r.alert, r] as const))("%s names only series and labels the app exports", (_n, rule) => {
    const { selectors } = read(rule.expr);
    expect(selectors.length).toBeGreaterThan(0);
    for (const { metric, matchers } of selectors) {
      expect(series.has(metric) ? metric : `${metric} (not exported)`).toBe(metric);
      for (const { label, op, value } of matchers) {
        expect([...series.get(metric)!]).toContain(label);
        const known = VALUES[metric]?.[label];
        if (known && op === "=") expect(known).toContain(value);
      }
    }
  });
});
