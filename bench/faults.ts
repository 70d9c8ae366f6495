import { badInputCorpus } from "./lib/faults-corpus";
import { crashMidBulk } from "./lib/faults-crash";
import { flakyHighLevel } from "./lib/faults-flaky";
import { postgresRestart } from "./lib/faults-outage";
import { machine, out, printResult, writeResults, type FaultResult } from "./lib/faults-report";

/**
 * `npm run bench:faults`: fault runs, each printing what was lost or duplicated against its goal.
 * Not a test: it prints figures (and keeps them in bench/RESULTS.md); nothing here runs in CI.
 * FAULTS=1,3 runs only those.
 */
const RUNS: [string, () => Promise<FaultResult>][] = [
  ["1", crashMidBulk],
  ["2", postgresRestart],
  ["3", flakyHighLevel],
  ["4", badInputCorpus],
];

async function main() {
  const only = process.env.FAULTS?.split(",").map((s) => s.trim());
  const started = Date.now();
  out(`Fault runs on ${machine()}`);
  const results: FaultResult[] = [];
  for (const [id, runFault] of RUNS) {
    if (only && !only.includes(id)) continue;
    const t = Date.now();
    try {
      results.push(await runFault());
    } catch (err) {
      // One run breaking (e.g. its stack not starting) must not hide the others' figures.
      results.push({
        title: `${id}. (did not complete)`,
        goal: "complete",
        pass: false,
        figures: [],
        findings: [`the run threw: ${err instanceof Error ? err.message : String(err)}`],
      });
    }
    printResult(results.at(-1)!);
    out(`  (${((Date.now() - t) / 1000).toFixed(0)} s)`);
  }
  const wallMs = Date.now() - started;
  out();
  out(
    `${results.filter((r) => r.pass).length} of ${results.length} fault runs met their goal (${(wallMs / 1000).toFixed(0)} s).`,
  );
  if (!only) out(`Figures written to ${writeResults(results, wallMs)}`);
}

void main();
