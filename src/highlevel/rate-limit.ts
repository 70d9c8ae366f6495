import { HighLevelApiError } from "./errors";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Retries `fn` after HighLevel's 429, waiting what `Retry-After` asks (with a little jitter so
 * parallel callers do not return in lockstep). A wait longer than `maxWaitMs` is not waited out:
 * the 429 is thrown for the caller to report.
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
      const waitMs = (err.retryAfterSeconds ?? 1) * 1000 + Math.random() * 250;
      if (waitMs > maxWaitMs) throw err;
      await sleep(waitMs);
    }
  }
}
