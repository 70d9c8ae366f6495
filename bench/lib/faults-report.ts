import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** One fault run's outcome: figures to print and keep, and whether it met its goal. */
export interface FaultResult {
  title: string;
  goal: string;
  pass: boolean;
  figures: [label: string, value: string | number][];
  /** What missed its goal and the likely cause; printed and kept with the figures. */
  findings: string[];
  /** Extra lines printed as they are (the corpus table); not kept in RESULTS.md. */
  detail?: string[];
}

export const out = (line = "") => process.stdout.write(`${line}\n`);

export function printResult(r: FaultResult): void {
  out();
  out(`== ${r.title}`);
  for (const line of r.detail ?? []) out(`  ${line}`);
  const width = Math.max(...r.figures.map(([l]) => l.length));
  for (const [label, value] of r.figures) out(`  ${label.padEnd(width)}  ${value}`);
  for (const f of r.findings) out(`  finding: ${f}`);
  out(`  ${r.pass ? "PASS" : "FAIL"}  (goal: ${r.goal})`);
}

export function machine(): string {
  const cpus = os.cpus();
  const memGb = (os.totalmem() / 1024 ** 3).toFixed(1);
  return `${cpus[0]?.model.trim() ?? "unknown CPU"} × ${cpus.length}, ${memGb} GB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

const START = "<!-- faults:start -->";
const END = "<!-- faults:end -->";
const RESULTS = path.resolve(__dirname, "..", "RESULTS.md");

function section(results: FaultResult[], wallMs: number): string {
  const lines = [
    START,
    "## Fault runs",
    "",
    `\`npm run bench:faults\`, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${Math.round(wallMs / 1000)} s in all.`,
    `Machine: ${machine()}.`,
    "",
  ];
  for (const r of results) {
    lines.push(`### ${r.title} — ${r.pass ? "PASS" : "FAIL"}`, "", `Goal: ${r.goal}.`, "");
    lines.push("| figure | value |", "|---|---|");
    for (const [label, value] of r.figures) lines.push(`| ${label} | ${String(value).replace(/\|/g, "\\|")} |`);
    lines.push("");
    for (const f of r.findings) lines.push(`- Finding: ${f}`);
    if (r.findings.length) lines.push("");
  }
  lines.push(END);
  return lines.join("\n");
}

/** Replaces only the text between the markers: the other sections belong to other benchmarks. */
export function writeResults(results: FaultResult[], wallMs: number): string {
  const text = section(results, wallMs);
  const current = fs.existsSync(RESULTS) ? fs.readFileSync(RESULTS, "utf8") : "# Benchmark results\n";
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  const next =
    start >= 0 && end > start
      ? `${current.slice(0, start)}${text}${current.slice(end + END.length)}`
      : `${current.trimEnd()}\n\n${text}\n`;
  fs.writeFileSync(RESULTS, next);
  return RESULTS;
}

/** p-th percentile (0–100) of a list of numbers; 0 for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/** "500×12, 503×3": a histogram of statuses or reasons. */
export function histogram(values: (string | number)[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k}×${n}`).join(", ") || "none";
}
