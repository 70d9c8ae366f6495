import { setTimeout as sleep } from "node:timers/promises";
import { HighLevelApiError, highLevelFailing } from "./errors";

/**
 * Retries `fn` after HighLevel's 429. The pacer keeps such answers rare; one still comes when
 * HighLevel counts differently. The wait is what the 429 asks (`Retry-After`, else the window of
 * its X-RateLimit-* headers), else a back-off doubling from 1 s up to HighLevel's 10 s window,
 * with a little jitter so parallel callers do not return in lockstep. A wait longer than
 * `maxWaitMs` is not waited out: the 429 goes to the caller (an API answer's `Retry-After`, or
 * queued work rescheduled for then).
 */
export async function waitOutRateLimit<T>(
  fn: () => Promise<T>,
  options: { attempts?: number; maxWaitMs?: number } = {},
): Promise<T> {
  const attempts = options.attempts ?? 4;
  const maxWaitMs = options.maxWaitMs ?? 15_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof HighLevelApiError) || err.status !== 429 || attempt >= attempts) throw err;
      const seconds = err.retryAfterSeconds ?? Math.min(10, 2 ** (attempt - 1));
      const waitMs = seconds * 1000 + Math.random() * 250;
      if (waitMs > maxWaitMs) throw err;
      await sleep(waitMs);
    }
  }
}

/**
 * Retries a repeatable operation on transient failures with jittered backoff; any other error,
 * and the last transient one, goes to the caller.
 */
export async function retryTransient<T>(fn: () => Promise<T>, delaysMs: number[] = [200, 800]): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const delay = delaysMs[attempt];
      if (!highLevelFailing(err) || delay === undefined) throw err;
      await sleep(delay * (0.75 + Math.random() / 2));
    }
  }
}
