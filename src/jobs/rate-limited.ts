import { AppError } from "../errors";
import { RateLimitHeld } from "../highlevel/errors";

export interface RateLimitWait {
  /** Reschedule the work this many seconds from now. */
  seconds: number;
  resumesAt: Date;
  /** What the user reads on the waiting item, e.g. "waiting: daily HighLevel limit reached for this location, resumes at …". */
  detail: string;
}

/**
 * THE RULE FOR QUEUED WORK (bulk items, webhook deliveries, block plans, agency mints): a rate
 * limit is not a failure. Work refused because an owner's HighLevel budget is spent — held back
 * by the app's pacer before sending (`RateLimitHeld`), or answered 429 by HighLevel — is
 * rescheduled for when the budget returns, with the reason shown to the user, and never counts as
 * an attempt: however long the wait (a whole day for the daily limit), it never fails the work.
 * Every queue handler asks this first, before its own retry policy.
 *
 * Returns how long to wait, or undefined when `err` is not a rate limit.
 */
export function rateLimitWait(err: unknown, subject = "this location"): RateLimitWait | undefined {
  if (!(err instanceof AppError) || err.code !== "rate_limited") return undefined;
  const seconds = Math.max(1, err.retryAfterSeconds ?? 10);
  const resumesAt = err instanceof RateLimitHeld ? err.resumesAt : new Date(Date.now() + seconds * 1000);
  const at = resumesAt.toISOString().replace(/\.\d{3}Z$/, "Z");
  const detail =
    err instanceof RateLimitHeld && err.limit === "daily"
      ? `waiting: daily HighLevel limit reached for ${subject}, resumes at ${at}`
      : `waiting: HighLevel rate limit reached for ${subject}, resumes at ${at}`;
  return { seconds, resumesAt, detail };
}
