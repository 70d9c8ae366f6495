import { setTimeout as sleep } from "node:timers/promises";
import { HighLevelApiError } from "./errors";

interface Window {
  /** Send times in the current interval, oldest first. */
  sent: number[];
  /** HighLevel said nothing is left (X-RateLimit-Remaining: 0): hold everything until then. */
  pausedUntil: number;
}

export interface PacerOptions {
  /** Requests per interval per owner; HighLevel allows 100 per 10 s, a margin is left for other processes. */
  limit?: number;
  intervalMs?: number;
  /** A caller is not kept waiting longer than this: it gets a 429 with the wait instead. */
  maxWaitMs?: number;
}

/**
 * Keeps each location (or company) under HighLevel's burst limit before HighLevel has to say
 * 429: a sliding window per owner, tightened by what the X-RateLimit-* headers report (they
 * count every process of this app, not just this one).
 */
export class RateLimitPacer {
  private readonly windows = new Map<string, Window>();
  private readonly limit: number;
  private readonly intervalMs: number;
  private readonly maxWaitMs: number;

  constructor(options: PacerOptions = {}) {
    this.limit = options.limit ?? 90;
    this.intervalMs = options.intervalMs ?? 10_000;
    this.maxWaitMs = options.maxWaitMs ?? 10_000;
  }

  /** Waits for a free slot for `owner`, or throws a 429 when that would take longer than maxWaitMs. */
  async acquire(owner: string): Promise<void> {
    for (;;) {
      const now = Date.now();
      const window = this.window(owner, now);
      let freeAt = window.pausedUntil;
      if (window.sent.length >= this.limit) {
        freeAt = Math.max(freeAt, window.sent[window.sent.length - this.limit]! + this.intervalMs);
      }
      if (freeAt <= now) {
        window.sent.push(now);
        return;
      }
      const waitMs = freeAt - now;
      if (waitMs > this.maxWaitMs) {
        throw new HighLevelApiError(
          429,
          `location ${owner} has used its HighLevel rate limit for now`,
          Math.ceil(waitMs / 1000),
        );
      }
      await sleep(waitMs);
    }
  }

  /** Reads HighLevel's X-RateLimit-* answer headers for `owner`. */
  observe(owner: string, headers: Record<string, unknown>): void {
    const remaining = Number(headers["x-ratelimit-remaining"]);
    if (!Number.isFinite(remaining) || remaining > 0) return;
    // Where HighLevel's window started is not said; a whole interval is the wait that is surely enough.
    const interval = Number(headers["x-ratelimit-interval-milliseconds"]);
    const window = this.window(owner, Date.now());
    window.pausedUntil = Date.now() + (Number.isFinite(interval) && interval > 0 ? interval : this.intervalMs);
  }

  private window(owner: string, now: number): Window {
    let window = this.windows.get(owner);
    if (!window) {
      if (this.windows.size > 50_000) this.evictIdle(now);
      window = { sent: [], pausedUntil: 0 };
      this.windows.set(owner, window);
    }
    while (window.sent.length > 0 && window.sent[0]! <= now - this.intervalMs) window.sent.shift();
    return window;
  }

  private evictIdle(now: number): void {
    for (const [owner, w] of this.windows) {
      if (w.pausedUntil <= now && (w.sent.length === 0 || w.sent[w.sent.length - 1]! <= now - this.intervalMs)) {
        this.windows.delete(owner);
      }
    }
  }
}
