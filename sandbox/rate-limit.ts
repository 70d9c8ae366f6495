import type { Response } from "express";
import type { SandboxRateLimitOptions } from "./types";

export interface RateLimitVerdict {
  allowed: boolean;
  /** Seconds until the burst window resets (for Retry-After). */
  retryAfterSeconds: number;
}

interface Window {
  start: number;
  used: number;
}

/**
 * HighLevel's limits are per app and per location or company: a burst of 100 requests per
 * 10 s and 200 000 per day. Fixed windows are close enough to let the app's back-off be tested.
 */
export class RateLimiter {
  readonly burst: number;
  readonly intervalMs: number;
  readonly daily: number;
  private readonly bursts = new Map<string, Window>();
  private readonly days = new Map<string, Window>();

  constructor(options: SandboxRateLimitOptions = {}) {
    this.burst = options.burst ?? 100;
    this.intervalMs = options.intervalMs ?? 10_000;
    this.daily = options.daily ?? 200_000;
  }

  reset(): void {
    this.bursts.clear();
    this.days.clear();
  }

  /** Counts one request for `owner` and sets HighLevel's X-RateLimit-* headers on `res`. */
  hit(owner: string, res: Response, now = Date.now()): RateLimitVerdict {
    const burst = current(this.bursts, owner, this.intervalMs, now);
    const day = current(this.days, owner, 86_400_000, now);
    const allowed = burst.used < this.burst && day.used < this.daily;
    if (allowed) {
      burst.used += 1;
      day.used += 1;
    }
    res.set({
      "X-RateLimit-Max": String(this.burst),
      "X-RateLimit-Remaining": String(Math.max(0, this.burst - burst.used)),
      "X-RateLimit-Interval-Milliseconds": String(this.intervalMs),
      "X-RateLimit-Limit-Daily": String(this.daily),
      "X-RateLimit-Daily-Remaining": String(Math.max(0, this.daily - day.used)),
    });
    const resetAt = day.used >= this.daily ? day.start + 86_400_000 : burst.start + this.intervalMs;
    return { allowed, retryAfterSeconds: Math.max(1, Math.ceil((resetAt - now) / 1000)) };
  }
}

function current(windows: Map<string, Window>, owner: string, length: number, now: number): Window {
  let window = windows.get(owner);
  if (!window || now - window.start >= length) {
    window = { start: now, used: 0 };
    windows.set(owner, window);
  }
  return window;
}
