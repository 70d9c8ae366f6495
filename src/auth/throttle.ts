import net from "node:net";
import type { Db } from "../db/client";
import { AppError } from "../errors";
import { deleteBatch } from "../db/purge";
import { Prisma } from "../generated/prisma/client";

export interface ThrottleOptions {
  /** Failed authentications from one address within a window; past it the address is refused. */
  limit: number;
  /** The window starts at an address's first failure and lasts this long. */
  windowMs: number;
  /** Addresses kept blocked in this process at most (default 100,000; tests use a few). */
  maxBlocked?: number;
}

/** docs/DECISIONS.md #25: a person mistyping never gets near it; guessing a key takes forever. */
export const AUTH_THROTTLE: ThrottleOptions = { limit: 20, windowMs: 5 * 60_000 };

/** Addresses kept blocked in this process at most: a flood of addresses cannot grow it without bound. */
const MAX_BLOCKED = 100_000;

/** An IPv6 address by its /64: one subscriber usually holds the whole /64 and can pick any address in it. */
function ipv6Prefix(address: string): string {
  const [plain = ""] = address.split("%");
  const [head = "", tail] = plain.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups =
    tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}

/** What failures are counted by: the client's address (`req.ip`), IPv4-mapped IPv6 as IPv4. */
export function clientKey(ip: string | undefined): string {
  if (!ip) return "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  return net.isIPv6(ip) ? ipv6Prefix(ip) : ip;
}

const tooManyAttempts = (untilMs: number) => {
  const seconds = Math.max(1, Math.ceil((untilMs - Date.now()) / 1000));
  const minutes = Math.ceil(seconds / 60);
  return new AppError(
    "too_many_attempts",
    `Too many failed authentication attempts from your address. Try again in ${minutes === 1 ? "a minute" : `${minutes} minutes`}.`,
    { retryAfterSeconds: seconds },
  );
};

/**
 * Failed authentication (API keys, console sign-in, SSO payloads, OAuth codes), throttled per
 * client address. Failures are counted in PostgreSQL, so every process sees the same count; only a
 * failure writes. An address over the limit is remembered in this process until its window ends,
 * so it is refused without a query, and another process learns of it at its next failure there.
 * A success neither reads nor writes anything.
 */
export class AuthThrottle {
  /** Address → end of its block (ms). */
  private readonly blocked = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly options: ThrottleOptions = AUTH_THROTTLE,
  ) {}

  /** Throws `too_many_attempts` while this address is blocked; otherwise returns at once. */
  assertAllowed(ip: string | undefined): void {
    if (this.blocked.size === 0) return;
    const key = clientKey(ip);
    const until = this.blocked.get(key);
    if (until === undefined) return;
    if (until > Date.now()) throw tooManyAttempts(until);
    this.blocked.delete(key);
  }

  /**
   * Counts one failure from this address. The failure that reaches the limit is answered as any
   * other (the caller's 401); from then on the address gets `too_many_attempts`, thrown here when a
   * process learns of the block from the shared count.
   */
  async failed(ip: string | undefined): Promise<void> {
    const key = clientKey(ip);
    // The window is PostgreSQL's clock, so processes whose clocks differ still agree on it.
    const [row] = await this.db.$queryRaw<{ failures: number; window_ends_at: Date }[]>`
      INSERT INTO auth_failures AS f (address, failures, window_ends_at)
      VALUES (${key}, 1, now() + ${this.options.windowMs}::int * interval '1 millisecond')
      ON CONFLICT (address) DO UPDATE SET
        failures = CASE WHEN f.window_ends_at <= now() THEN 1 ELSE f.failures + 1 END,
        window_ends_at = CASE WHEN f.window_ends_at <= now() THEN EXCLUDED.window_ends_at ELSE f.window_ends_at END
      RETURNING failures, window_ends_at`;
    if (!row || row.failures < this.options.limit) return;
    const until = row.window_ends_at.getTime();
    this.block(key, until);
    if (row.failures > this.options.limit) throw tooManyAttempts(until);
  }

  /** Housekeeping: counts whose window has ended. */
  purge(limit: number): Promise<number> {
    return deleteBatch(this.db, "auth_failures", Prisma.sql`window_ends_at < now()`, limit);
  }

  private block(key: string, until: number): void {
    const max = this.options.maxBlocked ?? MAX_BLOCKED;
    if (this.blocked.size >= max) {
      const now = Date.now();
      for (const [k, end] of this.blocked) if (end <= now) this.blocked.delete(k);
      // Still full: the oldest entry goes; that address is blocked again at its next failure.
      if (this.blocked.size >= max) this.blocked.delete(this.blocked.keys().next().value!);
    }
    this.blocked.delete(key);
    this.blocked.set(key, until);
  }
}
