import { Pool } from "pg";
import type { Logger } from "pino";
import { databaseShuttingDown, databaseUnavailable } from "../errors";

/**
 * A grant is counted from when PostgreSQL made it; the call goes when the answer is back. The
 * window is kept this much longer than HighLevel's, and a grant that comes back later than this
 * is not used (`RateLimitPacer`), so no span of HighLevel's window ever sees more than the limit.
 * A second: a busy machine can hold an answer for a few hundred ms, and a grant thrown away is
 * budget lost; the price is a window of 11 s instead of 10 (100 calls per 11 s at most). This second
 * is the app's whole margin under HighLevel's limit, which is per app (DECISIONS #43).
 */
export const LATE_MS = 1000;

/** HighLevel's limits as the app keeps them: a margin under HighLevel's own (docs/highlevel.md, "Rate limits"). */
export interface RateLimits {
  /** Calls per owner in any `windowMs` (HighLevel allows 100 per 10 s). */
  perWindow: number;
  windowMs: number;
  /** Calls per owner per UTC day (HighLevel allows 200,000 per day). */
  daily: number;
}

/**
 * How much later than an immediate grant a leased one may still go (and so how much longer it
 * counts in the window): 4 s, or less than half a window when the window is short. A process
 * that calls an owner often spends its lease over those seconds without asking PostgreSQL.
 */
export const leaseMs = (limits: RateLimits): number => Math.min(4000, Math.floor(limits.windowMs * 0.4));

/** What HighLevel's answer headers said about one owner (`RateBudget.note`). */
export interface RateNote {
  pauseMs?: number;
  dayUsed?: number;
  dailyHoldMs?: number;
  /**
   * HighLevel's X-RateLimit-Max and interval: no pause if the app's own calls account for its zero,
   * counting this process's leased calls already sent whose stamps are still ahead.
   */
  unlessOwn?: { max: number; intervalMs: number; sentAhead?: { stamps: number[]; counts: number[] } };
}

/** What a process asks the shared budget for one owner. */
export interface Ask {
  /** Calls waiting to go now. */
  calls: number;
  /** Further calls it would like to lease: to spend by itself until the lease runs out. */
  extra: number;
}

/** What the shared budget answered for one owner. */
export interface Grant {
  granted: number;
  /** Calls leased besides (only when every asked call was granted and the owner is far from its limits). */
  leased: number;
  /** For the calls not granted, oldest first: in how many ms each could go, as far as the window knows. */
  waitsMs: number[];
  /** Nothing is granted for this long (HighLevel said stop, or the day's calls are used up). */
  heldMs: number;
  heldBy: "burst" | "daily" | null;
}

/** Leased calls a process gives back unspent. */
export interface Leftover {
  owner: string;
  /** The stamp the leased calls were counted with (PostgreSQL's clock, epoch ms). */
  stampMs: number;
  count: number;
}

interface TakeRow {
  subject: string;
  granted: number;
  leased: number;
  waits_ms: number[];
  held_ms: string;
  held_by: "burst" | "daily" | null;
  at_ms: string;
}

/** PostgreSQL's clock minus this host's, as measured by one round trip, give or take `errorMs`. */
interface ClockSample {
  offsetMs: number;
  errorMs: number;
  at: number;
}
/** How fast a sample's error is taken to grow with its age: 1 ms per 10 s (clocks drift, slowly). */
const DRIFT_PER_MS = 1 / 10_000;

/**
 * A small pool of its own: no queue of Prisma queries ever stands between a call and its grant.
 * Its commits do not wait for the disk (`synchronous_commit=off`, DECISIONS #40): a grant is
 * pacing state that matters for seconds, and waiting for a flush cost each HighLevel call one
 * more disk round trip. A database crash can forget the last fraction of a second of grants;
 * its recovery takes longer than that, and HighLevel's own headers and 429s still hold the pace.
 */
export function createRateBudgetPool(databaseUrl: string, log: Logger, stopping: () => boolean = () => false): Pool {
  const pool = new Pool({
    connectionString: databaseUrl,
    max: 2,
    connectionTimeoutMillis: 5_000,
    statement_timeout: 5_000,
    options: "-c synchronous_commit=off",
    application_name: "highlevel-block-slots rate limits",
  });
  // An idle connection dropped by the server must not crash the process; the next query reconnects.
  // A database going away is one line without a stack, and none while stopping (a terminal's
  // Ctrl-C stops the demo's embedded database too, often first).
  pool.on("error", (err) => {
    if (stopping()) return;
    log[databaseShuttingDown(err) ? "info" : "warn"](
      databaseUnavailable(err) ? { reason: err.message } : { err },
      "rate-limit database connection lost",
    );
  });
  return pool;
}

/**
 * The per-owner budget every process of the app shares, kept in PostgreSQL by three functions
 * (migrations `refresh_schedule_and_rate_limits`, `rate_leases` and `rate_note_own_calls`):
 * `highlevel_rate_take` grants calls (and leases) for many owners in one round trip,
 * `highlevel_rate_refund` gives back leased calls never sent, `highlevel_rate_note` records what
 * HighLevel's headers said.
 */
export class RateBudget {
  private clock: ClockSample | undefined;

  constructor(
    private readonly pool: Pool,
    readonly limits: RateLimits,
  ) {}

  /**
   * Asks for calls (and leases) per owner in one round trip. `ageMs`: how long ago PostgreSQL made
   * the grants, at most, now that the answer is here (a connection being opened first does not
   * count; a process that stalled after the answer came does); `madeAt`: the earliest moment, on
   * this host's clock, they can have been made; `atMs`: when, on PostgreSQL's clock.
   */
  async take(
    asks: Map<string, Ask>,
  ): Promise<{ grants: Map<string, Grant>; ageMs: number; madeAt: number; atMs: number }> {
    const owners = [...asks.keys()];
    const client = await this.pool.connect();
    let rows: TakeRow[];
    const sentAt = Date.now();
    try {
      ({ rows } = await client.query<TakeRow>({
        name: "highlevel_rate_take_leasing",
        text: "SELECT * FROM highlevel_rate_take($1::text[], $2::int[], $3, $4, $5, $6::int[], $7)",
        values: [
          owners,
          owners.map((o) => asks.get(o)!.calls),
          this.limits.perWindow,
          this.limits.windowMs + LATE_MS,
          this.limits.daily,
          owners.map((o) => asks.get(o)!.extra),
          leaseMs(this.limits),
        ],
      }));
    } finally {
      client.release();
    }
    const now = Date.now();
    const grantedAt = Number(rows[0]?.at_ms ?? now);
    const clock = this.sampleClock(grantedAt, sentAt, now);
    const ageMs = Math.max(0, now - (grantedAt - clock.offsetMs) + clock.errorMs + (now - clock.at) * DRIFT_PER_MS);
    const grants = new Map(
      rows.map((r) => [
        r.subject,
        {
          granted: r.granted,
          leased: r.leased,
          waitsMs: r.waits_ms,
          heldMs: Number(r.held_ms),
          heldBy: r.held_by,
        },
      ]),
    );
    return { grants, ageMs, madeAt: now - ageMs, atMs: grantedAt };
  }

  /** Gives back leased calls that were never sent, so other processes (and the day's count) have them again. */
  async refund(leftovers: Leftover[]): Promise<void> {
    if (leftovers.length === 0) return;
    await this.pool.query({
      name: "highlevel_rate_refund",
      text: "SELECT highlevel_rate_refund($1::text[], $2::bigint[], $3::int[], $4::int[])",
      values: [
        leftovers.map((l) => l.owner),
        leftovers.map((l) => l.stampMs),
        leftovers.map((l) => l.count),
        // The day the lease was granted on (its stamp is `leaseMs` after the grant).
        leftovers.map((l) => Math.floor((l.stampMs - leaseMs(this.limits)) / 86_400_000)),
      ],
    });
  }

  /** Keeps the most precise estimate of PostgreSQL's clock against ours: the quickest round trip, allowing for drift. */
  private sampleClock(serverMs: number, sentAt: number, receivedAt: number): ClockSample {
    const sample = {
      offsetMs: serverMs - (sentAt + receivedAt) / 2,
      errorMs: (receivedAt - sentAt) / 2,
      at: receivedAt,
    };
    const kept = this.clock;
    if (!kept || sample.errorMs <= kept.errorMs + (receivedAt - kept.at) * DRIFT_PER_MS) this.clock = sample;
    return this.clock!;
  }

  /**
   * Holds `owner` for `pauseMs`, counts at least `dayUsed` calls today, holds it `dailyHoldMs` for
   * the day. With `unlessOwn` (HighLevel's X-RateLimit-Max and interval) the pause is skipped when
   * the app's own grants in that interval account for HighLevel's zero. Resolves with whether the
   * owner was paused.
   */
  async note(owner: string, what: RateNote): Promise<boolean> {
    const { rows } = await this.pool.query<{ paused: boolean }>({
      name: "highlevel_rate_note_own",
      text: "SELECT highlevel_rate_note($1, $2, $3, $4, $5, $6, $7::bigint[], $8::int[]) AS paused",
      values: [
        owner,
        Math.ceil(what.pauseMs ?? 0),
        what.dayUsed ?? 0,
        Math.ceil(what.dailyHoldMs ?? 0),
        what.unlessOwn?.max ?? 0,
        Math.ceil(what.unlessOwn?.intervalMs ?? 0),
        what.unlessOwn?.sentAhead?.stamps ?? [],
        what.unlessOwn?.sentAhead?.counts ?? [],
      ],
    });
    return rows[0]?.paused ?? false;
  }
}
