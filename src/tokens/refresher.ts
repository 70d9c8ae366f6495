import type { Logger } from "pino";
import type { Db } from "../db/client";
import { asAppError } from "../errors";
import { mapLimit } from "../util/concurrency";
import type { TokenService } from "./service";
import { REFRESH_AHEAD_MS, type Owner } from "./store";

export interface RefresherOptions {
  /** Time between sweeps; each process adds up to ±20 % jitter (default 5 min). */
  intervalMs?: number;
  /** Installations claimed at a time by one process (default 20). */
  batchSize?: number;
  /** Renewals one process runs at once (default 4). */
  concurrency?: number;
  /** How long a claim keeps other processes off a row; a process that died lets it go after this (default 5 min). */
  claimMs?: number;
  /** Wait after a first failure; it doubles with each further one (default 5 min) … */
  retryBaseMs?: number;
  /** … up to this (default 4 h: a token lives a day, so a few tries still fit before it expires). */
  retryCapMs?: number;
  /** Failing this long, an installation is marked for attention and no longer retried here (default 7). */
  giveUpAfterDays?: number;
}

export interface SweepResult {
  /** Renewed (or found renewed by another caller). */
  checked: number;
  failed: number;
  /** Failing for longer than `giveUpAfterDays`: marked, and left alone from now on. */
  gaveUp: number;
  /** Held back by HighLevel's rate limit: not a failure, due again when the limit allows. */
  deferred: number;
}

/** Table names by owner: constants, never input. */
const TABLE: Record<Owner, string> = { company: "companies", location: "locations" };
/** The timestamp columns hold UTC without a zone (Prisma's DateTime). */
const NOW = "timezone('UTC', now())";

/**
 * Keeps idle installations alive. Access tokens live a day, so renewing every token before it
 * expires also keeps each single-use refresh token young (they die after a year unused), and a
 * broken installation shows up in /api/installations the same day instead of at its next use.
 *
 * Each installation has its next renewal time (`next_refresh_at`: an hour before expiry) and a
 * count of failures. Every process sweeps: it claims a few due rows at a time, the earliest first,
 * with `FOR UPDATE SKIP LOCKED` (processes share the work and never wait for each other), pushing
 * them out of reach for the claim's length. A renewal sets the next time from the new expiry; a
 * failure pushes it back, doubling up to a cap, so rows that keep failing cannot take every sweep
 * and starve the healthy ones. After `giveUpAfterDays` of failures an installation is marked
 * (`refresh_given_up_at`, shown in the console) and left to its next use or a reinstall. Renewal
 * itself still takes the row lock (TokenService.renew): one refresh per token, whoever asks.
 */
export class TokenRefresher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly claimMs: number;
  private readonly retryBaseMs: number;
  private readonly retryCapMs: number;
  private readonly giveUpAfterMs: number;

  constructor(
    private readonly db: Db,
    private readonly tokens: TokenService,
    private readonly log: Logger,
    options: RefresherOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 5 * 60_000;
    this.batchSize = options.batchSize ?? 20;
    this.concurrency = options.concurrency ?? 4;
    this.claimMs = options.claimMs ?? 5 * 60_000;
    this.retryBaseMs = options.retryBaseMs ?? 5 * 60_000;
    this.retryCapMs = options.retryCapMs ?? 4 * 3600_000;
    this.giveUpAfterMs = (options.giveUpAfterDays ?? 7) * 86_400_000;
  }

  start(): void {
    this.stopping = false;
    const schedule = (base: number) => {
      const jittered = base * (0.8 + Math.random() * 0.4);
      this.timer = setTimeout(() => {
        this.running = this.sweep()
          .then(() => undefined)
          .catch((err: unknown) => this.log.error({ err }, "token refresher sweep failed"))
          .finally(() => {
            if (!this.stopping) schedule(this.intervalMs);
          });
      }, jittered);
      this.timer.unref();
    };
    // A random first delay spreads processes that start together.
    schedule(Math.random() * this.intervalMs);
  }

  /** No new sweep; a sweep under way ends after the renewal it is doing. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Every due installation, claimed a batch at a time: companies first (their locations may be minted from them). */
  async sweep(): Promise<SweepResult> {
    const result: SweepResult = { checked: 0, failed: 0, gaveUp: 0, deferred: 0 };
    for (const owner of ["company", "location"] as const) {
      while (!this.stopping) {
        const ids = await this.claim(owner);
        if (ids.length === 0) break;
        await mapLimit(ids, this.concurrency, (id) => this.refresh(owner, id, result));
      }
    }
    return result;
  }

  /** Due rows nobody else holds, earliest first; pushed out by the claim's length so no other sweep takes them. */
  private async claim(owner: Owner): Promise<string[]> {
    const table = TABLE[owner];
    const rows = await this.db.$queryRawUnsafe<{ id: string }[]>(
      `UPDATE ${table} SET next_refresh_at = ${NOW} + make_interval(secs => $1)
        WHERE id IN (SELECT id FROM ${table}
                      WHERE status IN ('active', 'inactive') AND next_refresh_at <= ${NOW}
                      ORDER BY next_refresh_at
                      LIMIT $2
                      FOR UPDATE SKIP LOCKED)
        RETURNING id`,
      this.claimMs / 1000,
      this.batchSize,
    );
    return rows.map((r) => r.id);
  }

  private async refresh(owner: Owner, id: string, result: SweepResult): Promise<void> {
    try {
      await this.tokens.renew(owner, id, { minValidityMs: REFRESH_AHEAD_MS });
      // Also when another caller renewed first: the next time follows the token now stored.
      await this.db.$executeRawUnsafe(
        `UPDATE ${TABLE[owner]}
            SET next_refresh_at = token_expires_at - make_interval(secs => $2),
                refresh_failures = 0, refresh_failing_since = NULL, refresh_given_up_at = NULL
          WHERE id = $1`,
        id,
        REFRESH_AHEAD_MS / 1000,
      );
      result.checked++;
    } catch (err) {
      const error = asAppError(err);
      if (error.code === "rate_limited") {
        // Not a failure: HighLevel's limit for this agency is spent for now. Due again when it allows.
        await this.due(owner, id, (error.retryAfterSeconds ?? 10) * 1000);
        result.deferred++;
        return;
      }
      result.failed++;
      // Reinstall needed or uninstalled: the status says so, and the sweep no longer picks the row.
      if (error.code === "reauthorization_required" || error.code === "location_not_installed") return;
      if (error.code === "not_found") return;
      if (error.code === "internal_error") this.log.error({ err, owner, id }, "background token renewal failed: a bug");
      else this.log.warn({ owner, id, reason: error.message }, "background token renewal failed");
      if (await this.failed(owner, id, error.message)) {
        result.gaveUp++;
        this.log.warn({ owner, id }, "background token renewal given up: the installation needs attention");
      }
    }
  }

  private async due(owner: Owner, id: string, inMs: number): Promise<void> {
    await this.db.$executeRawUnsafe(
      `UPDATE ${TABLE[owner]} SET next_refresh_at = ${NOW} + make_interval(secs => $2) WHERE id = $1`,
      id,
      inMs / 1000,
    );
  }

  /** Counts a failure and backs off (±10 %); true when the failures have lasted long enough to give up. */
  private async failed(owner: Owner, id: string, reason: string): Promise<boolean> {
    const rows = await this.db.$queryRawUnsafe<{ given_up: boolean }[]>(
      `WITH f AS (
         SELECT id, COALESCE(refresh_failing_since, ${NOW}) AS since,
                COALESCE(refresh_failing_since, ${NOW}) < ${NOW} - make_interval(secs => $3) AS give_up,
                least($5::float8, $4::float8 * power(2, refresh_failures)) * (0.9 + random() * 0.2) AS wait_ms
           FROM ${TABLE[owner]} WHERE id = $1)
       UPDATE ${TABLE[owner]} t
          SET refresh_failures = t.refresh_failures + 1,
              refresh_failing_since = f.since,
              last_error = $2,
              refresh_given_up_at = CASE WHEN f.give_up THEN ${NOW} END,
              next_refresh_at = CASE WHEN f.give_up THEN NULL
                                     ELSE ${NOW} + make_interval(secs => f.wait_ms / 1000) END
         FROM f WHERE t.id = f.id
       RETURNING f.give_up AS given_up`,
      id,
      reason.slice(0, 500),
      this.giveUpAfterMs / 1000,
      this.retryBaseMs,
      this.retryCapMs,
    );
    return rows[0]?.given_up ?? false;
  }
}
