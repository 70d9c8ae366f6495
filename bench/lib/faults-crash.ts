import { awaitBulk, submitBulk } from "./bulk";
import type { FaultResult } from "./faults-report";
import { installAgency, sleep, faultStack } from "./stack";

const LOCATIONS = 200;
const ITEMS = 1000;

/**
 * Fault 1: the only app process is SIGKILLed while creates are out (claimed, sent to HighLevel,
 * not answered), then a fresh process is started and the job must end with every block once.
 */
export async function crashMidBulk(): Promise<FaultResult> {
  const stack = await faultStack(LOCATIONS);
  try {
    await installAgency(stack, "bench-agency");
    const startedAt = Date.now();
    const job = await submitBulk(stack, LOCATIONS, ITEMS);

    // Kill once a fifth is done and several creates are in flight, so the kill cuts real work;
    // past half-way, any create in flight will do.
    let atKill = { succeeded: 0, inFlight: 0 };
    for (const end = Date.now() + 60_000; Date.now() < end; await sleep(5)) {
      const [row] = await stack.query<{ succeeded: number; in_flight: number }>(
        `SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
                count(*) FILTER (WHERE status = 'pending' AND sent)::int AS in_flight
         FROM bulk_items WHERE job_id = $1`,
        [job.id],
      );
      atKill = { succeeded: row!.succeeded, inFlight: row!.in_flight };
      if (atKill.succeeded >= ITEMS / 5 && atKill.inFlight >= 5) break;
      if (atKill.succeeded >= ITEMS / 2 && atKill.inFlight > 0) break;
    }
    const victim = stack.apps[0]!;
    victim.child.kill("SIGKILL");
    const killedAt = Date.now();
    await new Promise((resolve) =>
      victim.child.exitCode !== null ? resolve(null) : victim.child.once("exit", resolve),
    );
    await stack.startApp();
    const outcome = await awaitBulk(stack, job, startedAt, 120_000);
    const recoveryMs = Date.now() - killedAt;

    const findings: string[] = [];
    if (atKill.inFlight === 0) findings.push("the kill did not land while creates were in flight (job too fast?)");
    if (outcome.lost > 0) findings.push(`${outcome.lost} item(s) neither created in HighLevel nor reported failed`);
    if (outcome.duplicated > 0) findings.push(`${outcome.duplicated} block(s) created twice in HighLevel`);
    const invalid = stack.sandbox.state.invalidRequests().length;
    return {
      title: `1. SIGKILL mid-bulk (${ITEMS} items over ${LOCATIONS} locations, HighLevel latency 50 ms)`,
      goal: "lost 0, duplicated 0",
      pass: outcome.lost === 0 && outcome.duplicated === 0 && atKill.inFlight > 0,
      figures: [
        ["killed after", `${atKill.succeeded} succeeded, ${atKill.inFlight} creates in flight`],
        ["kill → job finished", `${(recoveryMs / 1000).toFixed(1)} s (JOB_TIMEOUT_SECONDS=5)`],
        ["wall time", `${(outcome.wallMs / 1000).toFixed(1)} s`],
        ["job status", outcome.status],
        ["succeeded", outcome.succeeded],
        ["failed", outcome.failed],
        ["lost", outcome.lost],
        ["duplicated", outcome.duplicated],
        ["requests HighLevel's OpenAPI refused", invalid],
      ],
      findings,
    };
  } finally {
    await stack.close();
  }
}
