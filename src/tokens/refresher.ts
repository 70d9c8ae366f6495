import type { Logger } from "pino";
import type { Db } from "../db/client";
import type { Owner } from "./store";
import type { TokenService } from "./service";

export interface RefresherOptions {
  /** Time between sweeps; each process adds up to ±20 % jitter (default 5 min). */
  intervalMs?: number;
  /** Tokens expiring within this horizon are checked now (default 1 h). */
  horizonMs?: number;
  /** Installations per sweep and kind (default 200). */
  batchSize?: number;
}

/**
 * Keeps idle installations alive. Access tokens live a day, so renewing every token before it
 * expires also keeps each single-use refresh token young (they die after a year unused), and a
 * broken installation shows up in /api/installations the same day instead of at its next use.
 * Every process runs a refresher; each token is still checked once, because renewal takes the
 * row lock and re-reads the row (TokenService.renew).
 */
export class TokenRefresher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private readonly intervalMs: number;
  private readonly horizonMs: number;
  private readonly batchSize: number;

  constructor(
    private readonly db: Db,
    private readonly tokens: TokenService,
    private readonly log: Logger,
    options: RefresherOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 5 * 60_000;
    this.horizonMs = options.horizonMs ?? 60 * 60_000;
    this.batchSize = options.batchSize ?? 200;
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

  /** One pass: companies first (their locations may be minted from them), then locations. */
  async sweep(): Promise<{ checked: number; failed: number }> {
    const horizon = new Date(Date.now() + this.horizonMs);
    const due = {
      status: { in: ["active", "inactive"] as ("active" | "inactive")[] },
      OR: [{ tokenExpiresAt: null }, { tokenExpiresAt: { lt: horizon } }],
    };
    const companies = await this.db.company.findMany({
      where: due,
      select: { id: true },
      take: this.batchSize,
      orderBy: { tokenExpiresAt: "asc" },
    });
    const locations = await this.db.location.findMany({
      where: due,
      select: { id: true },
      take: this.batchSize,
      orderBy: { tokenExpiresAt: "asc" },
    });
    let checked = 0;
    let failed = 0;
    const renewAll = async (owner: Owner, ids: { id: string }[]) => {
      for (const { id } of ids) {
        if (this.stopping) return;
        try {
          await this.tokens.renew(owner, id, { minValidityMs: this.horizonMs });
          checked++;
        } catch (err) {
          failed++;
          this.log.warn({ owner, id, reason: (err as Error).message }, "background token renewal failed");
        }
      }
    };
    await renewAll("company", companies);
    await renewAll("location", locations);
    return { checked, failed };
  }
}
