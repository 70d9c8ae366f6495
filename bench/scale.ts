/**
 * `npm run bench:scale`: the agency-scale figures (installs of 1,000 sub-accounts, one rate limit
 * shared by several processes) at HighLevel's real limits, written to bench/RESULTS.md. They are
 * bound by those limits, not by this machine: the install takes over a minute and a half by design.
 */
import { agencyInstall, BUDGET as budget, paceMinimumS, sharedPacing } from "./lib/figures-scale";
import { refresherCycle } from "./lib/figures-refresher";
import { goal, machine, report, writeSection } from "./lib/report";

async function main() {
  const { lines, say } = report();
  say("## Agency scale");
  say();
  say(`\`npm run bench:scale\`, ${new Date().toISOString().slice(0, 16)}Z on ${machine()}.`);
  say();

  // SCALE_LOCATIONS / SCALE_CREATES: a reduced run to check the figures (the report is written either way).
  const install = await agencyInstall({ locations: Number(process.env.SCALE_LOCATIONS ?? 1000) });
  // HighLevel's limit alone (100 per 10 s) lets 1,000 mints go in 10 windows: ~100 s, the goal
  // allowing 10 % more. The app grants its budget per window of 10 s + LATE_MS (11 s), the first
  // window's at once, so its own minimum is a little under that.
  const limitMinimumS = Math.ceil(install.locations / 100) * 10;
  const appMinimumS = paceMinimumS(install.locations);
  say(
    `### 1. Agency install of ${install.locations} locations, sandbox at HighLevel's limits (100 per 10 s per company)`,
  );
  say();
  say("| figure | value | goal |");
  say("|---|---|---|");
  say(`| callback answered in | ${install.callbackMs} ms | ≤ 1,000 ms: ${goal(install.callbackMs <= 1000)} |`);
  say(
    `| all connected after | ${install.connectedS} s | ≤ ${Math.round(limitMinimumS * 1.1)} s (the limit's minimum ${limitMinimumS} s; the app's pace ${appMinimumS} s): ${goal(install.connectedS <= limitMinimumS * 1.1)} |`,
  );
  say(`| connected / failed | ${install.connected} / ${install.failed} | 1,000 / 0 |`);
  say(`| mints sent | ${install.mints} | exactly 1,000: ${goal(install.mints === install.locations)} |`);
  say(`| 429s provoked | ${install.rejected429} | 0: ${goal(install.rejected429 === 0)} |`);
  say(`| HighLevel's peak per 10 s for the agency | ${install.peakPer10s} | ≤ 100 |`);
  say();
  say(
    `The app runs with its shipped budget, HighLevel's own ${budget} per 10 s (\`HIGHLEVEL_BURST_LIMIT\`; HighLevel's limits are per app, so no one else spends them), and counts each grant for 10 s + \`LATE_MS\` (1 s): a grant may be used up to 1 s after PostgreSQL made it, and HighLevel must not see two windows' grants within 10 s. That second is the app's margin. So ${budget} mints go at once and ${budget} more every 11 s: the last of 1,000 can go at ${appMinimumS} s. (Until 2026-11-28 the budget was 90, which made it 121 s, and 133 s measured.)`,
  );
  say();

  const pacing = await sharedPacing({ processes: 3, creates: Number(process.env.SCALE_CREATES ?? 600) });
  say("### 2. Three processes, 600 creates for one location sent at once, sandbox at HighLevel's limit");
  say();
  say("| figure | value | goal |");
  say("|---|---|---|");
  say(`| 429s provoked at HighLevel | ${pacing.rejected429} | 0: ${goal(pacing.rejected429 === 0)} |`);
  say(
    `| the app's writes to HighLevel, peak per 10 s | ${pacing.appPeakPer10s} | ≤ ${budget} (its budget): ${goal(pacing.appPeakPer10s <= budget)} |`,
  );
  say(`| the sandbox's receipts, peak per 10 s | ${pacing.peakPer10s} | ≤ 100 (see below) |`);
  say(`| the bench process's longest event-loop stall | ${pacing.benchLoopStallMs} ms | |`);
  say(
    `| answered 201 / 429 with Retry-After / other | ${pacing.created} / ${pacing.heldWithRetryAfter} / ${pacing.other}${pacing.other ? ` (HTTP ${pacing.otherStatuses})` : ""} | other 0: ${goal(pacing.other === 0)} |`,
  );
  say(`| wall time | ${pacing.wallS} s | |`);
  say();
  say(
    "An API caller waits at most 10 s for the location's budget; past that it is answered 429 with `Retry-After` instead of being held. Queued work waits as long as it takes.",
  );
  say();
  say(
    "Two peaks, over a sliding 10 s: when each app process wrote a create on a connection (undici's diagnostics, bench/lib/send-times.cjs), and when the sandbox counted it. The sandbox runs in the bench process with the 600 callers, and counts a request when its event loop gets to it: when that loop stalls (the row above) it counts requests sent seconds apart as if together, so its peak can exceed what was sent in any 10 s. The app's own writes are the figure that shows whether it keeps HighLevel's limit. 429s provoked at the sandbox stay the check that HighLevel's fixed windows were never exceeded.",
  );
  say();
  say();

  const installations = Number(process.env.SCALE_INSTALLATIONS ?? 10_000);
  const cycle = await refresherCycle({ installations, failing: installations / 20, processes: 3 });
  say(
    `### 3. The refresher: ${cycle.installations.toLocaleString("en-US")} installations due, ${cycle.failing} of them refused by HighLevel, one sweep in ${cycle.processes} processes`,
  );
  say();
  say("| figure | value | goal |");
  say("|---|---|---|");
  say(`| one cycle (every due row taken once) | ${cycle.wallS} s | |`);
  say(
    `| healthy tokens renewed | ${cycle.healthyRenewed} of ${cycle.healthy} | all: ${goal(cycle.healthyRenewed === cycle.healthy)} |`,
  );
  say(
    `| renewed exactly once / more than once | ${cycle.renewedOnce} / ${cycle.renewedTwice} | all once: ${goal(cycle.renewedOnce === cycle.healthy && cycle.renewedTwice === 0)} |`,
  );
  say(
    `| refreshes spent on failing rows | ${cycle.failingTries} (${cycle.failing} rows) | one each, then backed off |`,
  );
  say(`| refresh requests to HighLevel in all | ${cycle.refreshRequests} | |`);
  say(`| rows taken by each process | ${cycle.perProcess.join(" / ")} | shared |`);
  say();
  say(
    "Tokens are issued by the sandbox and stored encrypted, as an install stores them, then made due at once: the worst case, where every installation needs HighLevel in the same sweep. Each process claims a batch of due rows at a time (`FOR UPDATE SKIP LOCKED`), earliest first; a refused renewal pushes its row back (doubling up to a cap), so failing rows take one try each and never the whole sweep.",
  );
  say();
  say(
    'A block plan of 8,000 blocks (preview, apply, a crash mid-apply, undo) has its own figure: `npm run bench:plans`, under "Block plans".',
  );
  writeSection("scale", lines.join("\n"));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`The benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
