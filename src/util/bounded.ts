import { setTimeout as sleep } from "node:timers/promises";

export type StepOutcome =
  { kind: "done" } | { kind: "failed"; err: unknown } | { kind: "cut"; why: "time" | "abandoned" };

/**
 * Waits for `work` at most `ms`, or until `abandon` resolves, whichever comes first. A shutdown
 * step that waits on something which can no longer answer (a database that is already gone, a
 * peer that hung) must not hold the whole process: the caller moves on and says so.
 */
export async function within(work: Promise<unknown>, ms: number, abandon?: Promise<unknown>): Promise<StepOutcome> {
  const stopTimer = new AbortController();
  const outcomes: Promise<StepOutcome>[] = [
    work.then(
      (): StepOutcome => ({ kind: "done" }),
      (err: unknown): StepOutcome => ({ kind: "failed", err }),
    ),
    sleep(ms, undefined, { signal: stopTimer.signal, ref: false }).then(
      (): StepOutcome => ({ kind: "cut", why: "time" }),
      (): StepOutcome => ({ kind: "cut", why: "time" }),
    ),
  ];
  if (abandon) outcomes.push(abandon.then((): StepOutcome => ({ kind: "cut", why: "abandoned" })));
  try {
    return await Promise.race(outcomes);
  } finally {
    stopTimer.abort();
  }
}
