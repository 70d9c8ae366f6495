import type { RateLimits, RateNote } from "./rate-budget";

/** HighLevel said the day's calls are used up: when to try one call again (its day's reset is not documented). */
const DAILY_PROBE_MS = 3_600_000;

const header = (headers: Record<string, unknown>, name: string): number | undefined => {
  const value = headers[name];
  const n = typeof value === "string" || typeof value === "number" ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
};

/**
 * What one of HighLevel's answers (its X-RateLimit-* headers and status) says for the shared
 * budget, or nothing. None left in the burst window, or a 429: a pause for HighLevel's interval;
 * unless it is a 429, with `unlessOwn` when the app's budget is no looser than HighLevel's limit
 * (only then does the shared window alone keep the next call back long enough: DECISIONS #47).
 * None left today: a hold for an hour. Near the day's end: HighLevel's count of the day.
 */
export function rateNoteOf(
  headers: Record<string, unknown>,
  status: number | undefined,
  limits: RateLimits,
): RateNote | undefined {
  const remaining = header(headers, "x-ratelimit-remaining");
  const intervalMs = header(headers, "x-ratelimit-interval-milliseconds");
  const max = header(headers, "x-ratelimit-max");
  const dailyRemaining = header(headers, "x-ratelimit-daily-remaining");
  const dailyMax = header(headers, "x-ratelimit-limit-daily");
  const note: RateNote = {};
  if (status === 429 || (remaining !== undefined && remaining <= 0)) {
    note.pauseMs = intervalMs && intervalMs > 0 ? intervalMs : limits.windowMs;
    if (status !== 429 && max && max >= limits.perWindow && limits.windowMs >= note.pauseMs) {
      note.unlessOwn = { max, intervalMs: note.pauseMs };
    }
  }
  if (dailyRemaining !== undefined && dailyRemaining <= 0) note.dailyHoldMs = DAILY_PROBE_MS;
  else if (dailyRemaining !== undefined && dailyMax !== undefined && dailyRemaining < Math.max(1000, dailyMax / 100)) {
    // Near the day's end HighLevel's count wins over ours (it also sees calls this app did not pace).
    note.dayUsed = dailyMax - dailyRemaining;
  }
  return note.pauseMs === undefined && note.dayUsed === undefined && note.dailyHoldMs === undefined ? undefined : note;
}
