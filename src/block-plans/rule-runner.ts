import { Worker } from "node:worker_threads";
import { invalidRequest } from "../errors";

/**
 * Runs an RRULE in a worker thread, with a deadline. The `rrule` library walks day by day until a
 * rule yields a date past UNTIL, or its COUNT, or the year 9999: a rule that can never match
 * (`FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;UNTIL=…`) walks ten thousand years, tens of seconds of
 * one core, and on the server's own thread that would stall every request. In a worker the server
 * keeps answering, and a rule still at work at the deadline is stopped and refused by name.
 */

/** Far above what a rule of 10,000 occurrences takes (milliseconds), far below a stalled request. */
export const RULE_DEADLINE_MS = 2000;

// Plain JavaScript, evaluated in the worker: it needs only the library, found where the server found it.
const SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { RRule } = require(workerData.library);
const { text, dtstart, until, limit, excluded } = workerData;
try {
  const options = { ...RRule.parseString(text), dtstart: new Date(dtstart), tzid: null };
  if (until !== null) options.until = new Date(until);
  const skip = new Set(excluded);
  const starts = [];
  // Excluded dates do not count toward the limit: iterate until enough are kept.
  new RRule(options).all((date) => {
    if (!skip.has(date.toISOString().slice(0, 10))) starts.push(date.getTime());
    return starts.length < limit;
  });
  parentPort.postMessage({ starts });
} catch (err) {
  parentPort.postMessage({ problem: err instanceof TypeError ? "a value is not one RFC 5545 allows" : String(err && err.message) });
}
`;
const LIBRARY = require.resolve("rrule");

export interface RuleRun {
  /** The rule as written, without `RRULE:`. */
  text: string;
  /** DTSTART and UNTIL as floating local times held in UTC (see schedule.ts). */
  dtstart: Date;
  until: Date | null;
  /** At most this many starts, not counting excluded dates. */
  limit: number;
  /** Local dates (`2026-12-25`) left out. */
  excluded: string[];
}

/**
 * Rules run at once, at most: each worker is a thread and some memory, and a burst of previews
 * should queue for a core rather than start a thread each. A queued rule's deadline starts with it.
 */
const MAX_RUNNING = 2;
let running = 0;
const waiting: (() => void)[] = [];

async function turn(): Promise<() => void> {
  if (running >= MAX_RUNNING) await new Promise<void>((resolve) => waiting.push(resolve));
  running += 1;
  return () => {
    running -= 1;
    waiting.shift()?.();
  };
}

/** The rule's starts (floating local times held in UTC), or a 400 naming `schedule.rrule`. */
export async function runRule(run: RuleRun, deadlineMs = RULE_DEADLINE_MS): Promise<Date[]> {
  const done = await turn();
  try {
    return await inWorker(run, deadlineMs);
  } finally {
    done();
  }
}

function inWorker(run: RuleRun, deadlineMs: number): Promise<Date[]> {
  // Worded as the body's own check words it (schemas.ts): the field, then the RRULE's problem.
  const refuse = (problem: string) =>
    invalidRequest("The request body is invalid: schedule.rrule.", [
      { path: "schedule.rrule", message: `RRULE ${problem}` },
    ]);
  return new Promise((resolve, reject) => {
    const worker = new Worker(SOURCE, {
      eval: true,
      workerData: {
        library: LIBRARY,
        text: run.text,
        dtstart: run.dtstart.getTime(),
        until: run.until ? run.until.getTime() : null,
        limit: run.limit,
        excluded: run.excluded,
      },
    });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(
        refuse(
          `takes too long to expand: it matches too rarely or never (e.g. a day no month has), or most of its dates are excluded`,
        ),
      );
    }, deadlineMs);
    const finish = () => {
      clearTimeout(timer);
      void worker.terminate();
    };
    worker.once("message", (result: { starts: number[] } | { problem: string }) => {
      finish();
      if ("problem" in result) reject(refuse(`cannot be used: ${result.problem}`));
      else resolve(result.starts.map((ms) => new Date(ms)));
    });
    worker.once("error", (err) => {
      finish();
      reject(err);
    });
  });
}
