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

/** What a benchmark reads about one owner: how close to the limit it ran, and how often it hit it. */
interface OwnerStats {
  /** Times of accepted requests still inside the last interval, oldest first from `head`. */
  recent: number[];
  head: number;
  peak: number;
  rejected: number;
}

/**
 * HighLevel's limits are per app and per location or company: a burst of 100 requests per
 * 10 s and 200 000 per day. Fixed windows are close enough to let the app's back-off be tested;
 * they also let through up to twice the burst around a window's edge, which is why `peak()`
 * measures over a sliding window: a well-paced client keeps it at or under the burst anyway.
 */
export class RateLimiter {
  readonly burst: number;
  readonly intervalMs: number;
  readonly daily: number;
  /** false: 429 without Retry-After (HighLevel documents only the X-RateLimit-* headers). */
  retryAfter: boolean;
  private readonly bursts = new Map<string, Window>();
  private readonly days = new Map<string, Window>();
  private readonly stats = new Map<string, OwnerStats>();

  constructor(options: SandboxRateLimitOptions = {}) {
    this.burst = options.burst ?? 100;
    this.intervalMs = options.intervalMs ?? 10_000;
    this.daily = options.daily ?? 200_000;
    this.retryAfter = options.retryAfter ?? true;
  }

  reset(): void {
    this.bursts.clear();
    this.days.clear();
    this.stats.clear();
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
    this.count(owner, allowed, now);
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

  /** The most requests of `owner` accepted within any `intervalMs`-long span so far. */
  peak(owner: string): number {
    return this.stats.get(owner)?.peak ?? 0;
  }

  /** How many requests of `owner` were answered 429. */
  rejected(owner: string): number {
    return this.stats.get(owner)?.rejected ?? 0;
  }

  private count(owner: string, allowed: boolean, now: number): void {
    let stats = this.stats.get(owner);
    if (!stats) {
      stats = { recent: [], head: 0, peak: 0, rejected: 0 };
      this.stats.set(owner, stats);
    }
    if (!allowed) {
      stats.rejected += 1;
      return;
    }
    const { recent } = stats;
    while (stats.head < recent.length && recent[stats.head]! <= now - this.intervalMs) stats.head += 1;
    // Drop the expired prefix now and then rather than shifting on every request.
    if (stats.head > 1024 && stats.head * 2 > recent.length) {
      recent.splice(0, stats.head);
      stats.head = 0;
    }
    recent.push(now);
    stats.peak = Math.max(stats.peak, recent.length - stats.head);
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
