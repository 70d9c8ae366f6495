import type { FaultReply } from "../../sandbox";
import { awaitBulk, submitBulk } from "./bulk";
import { histogram, type FaultResult } from "./faults-report";
import { installAgency, faultStack, type Stack } from "./stack";

const LOCATIONS = 200;
const ITEMS = 1000;

/** Small seeded PRNG (mulberry32): the same fault sequence each run, so runs compare. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A path pattern that also rolls a die. The sandbox's fault registry asks `test()` of each armed
 * fault in turn, first match wins: the rate of each fault is made conditional on the earlier
 * ones not having matched, so each kind hits its share of all requests, not of the leftovers.
 */
class Chance extends RegExp {
  enabled = true;
  constructor(
    source: RegExp,
    private readonly probability: number,
    private readonly random: () => number,
  ) {
    super(source.source, source.flags);
  }
  override test(path: string): boolean {
    return this.enabled && super.test(path) && this.random() < this.probability;
  }
}

/** Creates and the look-ups that guard re-sends: everything the bulk worker asks HighLevel. */
const CALENDARS = /^\/calendars\//;

const FAULTS: { share: number; reply: FaultReply; note: RegExp; kind: string }[] = [
  { kind: "500", share: 0.1, reply: { status: 500, body: { message: "Internal Server Error" } }, note: /HTTP 500/ },
  {
    kind: "429 (Retry-After 1)",
    share: 0.1,
    reply: { status: 429, body: { message: "Too many requests" }, headers: { "Retry-After": "1" } },
    note: /HTTP 429/,
  },
  { kind: "dropped before work", share: 0.05, reply: { drop: "before" }, note: /dropped before doing/ },
  { kind: "dropped after work", share: 0.05, reply: { drop: "after" }, note: /work done, connection dropped/ },
];

function armFaults(stack: Stack): Chance[] {
  const random = prng(20310101);
  let left = 1;
  return FAULTS.map((f) => {
    const chance = new Chance(CALENDARS, f.share / left, random);
    left -= f.share;
    stack.sandbox.state.failNext({ path: chance }, f.reply, Number.MAX_SAFE_INTEGER);
    return chance;
  });
}

/** Why failed items failed, from the job's rows: "upstream_error: HighLevel answered…×3". */
export async function failureReasons(stack: Stack, jobId: string): Promise<string> {
  const rows = await stack.query<{ code: string; detail: string }>(
    "SELECT coalesce(error_code, '?') AS code, coalesce(error_detail, '') AS detail FROM bulk_items WHERE job_id = $1 AND status = 'failed'",
    [jobId],
  );
  return histogram(rows.map((r) => `${r.code}: ${r.detail.slice(0, 80)}`));
}

/** Fault 3: HighLevel answers 10 % 500, 10 % 429 and drops 10 % of connections during a bulk. */
export async function flakyHighLevel(): Promise<FaultResult> {
  const stack = await faultStack(LOCATIONS);
  try {
    await installAgency(stack, "bench-agency");
    const before = stack.sandbox.state.requests.length;
    const chances = armFaults(stack);
    const startedAt = Date.now();
    const job = await submitBulk(stack, LOCATIONS, ITEMS);
    const outcome = await awaitBulk(stack, job, startedAt, 180_000);
    for (const c of chances) c.enabled = false;
    stack.sandbox.state.faults.clear();

    const seen = stack.sandbox.state.requests.slice(before).filter((r) => CALENDARS.test(r.path));
    const injected = FAULTS.map((f) => `${f.kind} ${seen.filter((r) => f.note.test(r.note ?? "")).length}`);
    const creates = seen.filter((r) => r.method === "POST").length;
    const findings: string[] = [];
    if (outcome.lost > 0) findings.push(`${outcome.lost} item(s) neither created in HighLevel nor reported failed`);
    if (outcome.duplicated > 0) findings.push(`${outcome.duplicated} block(s) created twice in HighLevel`);
    const reasons = outcome.failed > 0 ? await failureReasons(stack, job.id) : "none";
    return {
      title: `3. Flaky HighLevel (10 % 500, 10 % 429, 10 % dropped) during a bulk of ${ITEMS}`,
      goal: "lost 0, duplicated 0",
      pass: outcome.lost === 0 && outcome.duplicated === 0,
      figures: [
        ["HighLevel calendar requests", `${seen.length} (${creates} creates, ${seen.length - creates} look-ups)`],
        ["faults injected", injected.join(", ")],
        ["wall time", `${(outcome.wallMs / 1000).toFixed(1)} s`],
        ["job status", outcome.status],
        ["succeeded", outcome.succeeded],
        ["failed", outcome.failed],
        ["why failed", reasons],
        ["lost", outcome.lost],
        ["duplicated", outcome.duplicated],
      ],
      findings,
    };
  } finally {
    await stack.close();
  }
}
