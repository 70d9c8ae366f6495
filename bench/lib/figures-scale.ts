import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { HIGHLEVEL_BURST_DEFAULT } from "../../src/config";
import { LATE_MS } from "../../src/highlevel/rate-budget";
import { agency, authHeaders, installAgency, sleep, slotFor, startStack } from "./stack";

/**
 * Agency scale, figure 1: an agency of `locations` sub-accounts installed through the real
 * callback, the sandbox at HighLevel's real limits (100 per 10 s per company or location).
 */
export async function agencyInstall(options: { locations: number }) {
  const stack = await startStack({
    processes: 1,
    sandbox: { companies: [agency(options.locations)], rateLimit: { burst: 100, intervalMs: 10_000 } },
    // The app's own budget as shipped (its default), not the benches' unlimited one.
    env: { HIGHLEVEL_BURST_LIMIT: "" },
  });
  try {
    const install = await installAgency(stack, "bench-agency", 900_000);
    const limiter = stack.sandbox.state.rateLimiter;
    return {
      locations: options.locations,
      callbackMs: Math.round(install.callbackMs),
      connectedS: Math.round(install.connectedMs / 100) / 10,
      connected: install.connected,
      failed: install.failed,
      mints: stack.sandbox.state.mintCount(),
      rejected429: limiter.rejected("bench-agency"),
      peakPer10s: limiter.peak("bench-agency"),
    };
  } finally {
    await stack.close();
  }
}

/**
 * Agency scale, figure 2: `processes` app processes, `creates` creates for ONE location sent all
 * at once, the sandbox at HighLevel's real limit. Every answer must be 201, or 429 with Retry-After.
 */
export async function sharedPacing(options: { processes: number; creates: number }) {
  const sendTimes = path.join(os.tmpdir(), `bench-send-times-${process.pid}`);
  const stack = await startStack({
    nodeArgs: ["--require", path.join(__dirname, "send-times.cjs")],
    processes: options.processes,
    sandbox: { companies: [agency(1)], rateLimit: { burst: 100, intervalMs: 10_000 } },
    env: { HIGHLEVEL_BURST_LIMIT: "", SEND_TIMES_FILE: sendTimes },
  });
  const loop = monitorEventLoopDelay({ resolution: 20 });
  try {
    await installAgency(stack, "bench-agency");
    stack.sandbox.state.rateLimiter.reset();
    loop.enable();
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: options.creates }, async (_, i) => {
        const app = stack.apps[i % stack.apps.length]!;
        const { locationId, ...slot } = slotFor(i, "loc-0");
        const res = await fetch(`${app.url}/api/locations/${locationId}/block-slots`, {
          method: "POST",
          headers: authHeaders,
          body: JSON.stringify(slot),
        });
        await res.arrayBuffer();
        return { status: res.status, retryAfter: res.headers.get("retry-after") };
      }),
    );
    loop.disable();
    await sleep(700);
    const writes = stack.apps.flatMap((a) => JSON.parse(fs.readFileSync(`${sendTimes}.${a.pid}`, "utf8")) as number[]);
    const limiter = stack.sandbox.state.rateLimiter;
    return {
      appPeakPer10s: peakPer(writes, 10_000),
      benchLoopStallMs: Math.round(loop.max / 1e6),
      processes: options.processes,
      creates: options.creates,
      wallS: Math.round((performance.now() - started) / 100) / 10,
      created: answers.filter((a) => a.status === 201).length,
      heldWithRetryAfter: answers.filter((a) => a.status === 429 && a.retryAfter).length,
      other: answers.filter((a) => a.status !== 201 && !(a.status === 429 && a.retryAfter)).length,
      otherStatuses: [
        ...new Set(answers.filter((a) => a.status !== 201 && !(a.status === 429 && a.retryAfter)).map((a) => a.status)),
      ].join(", "),
      rejected429: limiter.rejected("loc-0"),
      peakPer10s: limiter.peak("loc-0"),
    };
  } finally {
    await stack.close();
    for (const app of stack.apps) fs.rmSync(`${sendTimes}.${app.pid}`, { force: true });
  }
}

/** The most of `times` (epoch ms) within any `spanMs`-long span. */
function peakPer(times: number[], spanMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, head = 0; i < sorted.length; i++) {
    while (sorted[head]! <= sorted[i]! - spanMs) head++;
    peak = Math.max(peak, i - head + 1);
  }
  return peak;
}

/** The app's shipped budget per owner, and its window: 10 s plus the late second each grant counts for. */
export const BUDGET = HIGHLEVEL_BURST_DEFAULT;
const WINDOW_S = 10 + LATE_MS / 1000;

/** The soonest the last of `calls` for one owner can go at the app's pace: a budget at once, then one per window. */
export const paceMinimumS = (calls: number) => Math.floor((calls - 1) / BUDGET) * WINDOW_S;
