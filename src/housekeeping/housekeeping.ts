import { Client } from "pg";
import type { Logger } from "pino";
import { asAppError } from "../errors";

/** One kind of row that stops being needed after a while. */
export interface PurgeTask {
  /** What goes, as the log line names it (usually the table). */
  name: string;
  /**
   * Deletes at most `limit` rows per statement (one statement, or a few for rows that belong
   * together) and returns how many went. Fewer than `limit` means nothing is left for now.
   */
  purge(limit: number): Promise<number>;
}

export interface HousekeepingOptions {
  /** Time between runs; each process adds ±20 % jitter (default 10 min). */
  intervalMs?: number;
  /** Rows per statement (default 1,000): short locks, short transactions, a bounded WAL burst. */
  batchSize?: number;
  /** A run stops after this long even with work left; the next one comes sooner (default 20 s). */
  budgetMs?: number;
}

export interface HousekeepingRun {
  /** Rows deleted, per task. */
  purged: Record<string, number>;
  /** False when the time budget ran out (or the process is stopping) before every task was done. */
  complete: boolean;
}

/** A key of the two-integer advisory-lock space, apart from pg-boss's one-bigint locks. */
const LOCK: [number, number] = [0x68_6c_62_73, 1];
/** After a run that left work behind, the next comes this soon. */
const BACKLOG_DELAY_MS = 30_000;

/**
 * Purges what the app no longer needs, on a timer, in every process, but one process at a time:
 * a run first takes a session advisory lock on a connection of its own (released by PostgreSQL
 * should the process die) and a process that does not get it skips the run. Tasks take turns a
 * batch each, so one large backlog does not starve the others within the time budget.
 */
export class Housekeeping {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopping = false;
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private readonly budgetMs: number;

  constructor(
    private readonly databaseUrl: string,
    private readonly tasks: PurgeTask[],
    private readonly log: Logger,
    options: HousekeepingOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 10 * 60_000;
    this.batchSize = options.batchSize ?? 1_000;
    this.budgetMs = options.budgetMs ?? 20_000;
  }

  start(): void {
    this.stopping = false;
    const schedule = (delayMs: number) => {
      this.timer = setTimeout(() => {
        const run = this.runOnce().catch((err: unknown) => {
          this.log.warn({ err }, "housekeeping run failed");
          return undefined;
        });
        this.running = run;
        void run.then((result) => {
          if (this.stopping) return;
          schedule(result && !result.complete ? BACKLOG_DELAY_MS : this.jittered());
        });
      }, delayMs);
      this.timer.unref();
    };
    // Processes started together spread their first runs over the first minute.
    schedule(Math.random() * 60_000);
  }

  /** No new run; a run under way ends after its current statement. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One run, now. Undefined when another process (or connection) is running one. */
  async runOnce(): Promise<HousekeepingRun | undefined> {
    const lock = new Client({
      connectionString: this.databaseUrl,
      application_name: "highlevel-block-slots housekeeping",
    });
    lock.on("error", () => {}); // a lost lock connection fails the run's next query instead
    await lock.connect();
    try {
      const { rows } = await lock.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1, $2) AS locked", LOCK);
      if (!rows[0]?.locked) {
        this.log.debug("housekeeping: another process is running it");
        return undefined;
      }
      const run = await this.purgeAll();
      await lock.query("SELECT pg_advisory_unlock($1, $2)", LOCK);
      const total = Object.values(run.purged).reduce((a, b) => a + b, 0);
      if (total > 0 || !run.complete) this.log.info(run, "housekeeping purged old rows");
      return run;
    } finally {
      await lock.end().catch(() => {});
    }
  }

  private async purgeAll(): Promise<HousekeepingRun> {
    const purged: Record<string, number> = Object.fromEntries(this.tasks.map((t) => [t.name, 0]));
    let open = [...this.tasks];
    const deadline = Date.now() + this.budgetMs;
    const stop = () => this.stopping || Date.now() >= deadline;
    while (open.length > 0 && !stop()) {
      for (const task of [...open]) {
        let done: boolean;
        try {
          const count = await task.purge(this.batchSize);
          purged[task.name]! += count;
          done = count < this.batchSize;
        } catch (err) {
          const error = asAppError(err);
          // The database going away is worth a warning; anything else is a bug in the task.
          if (error.retryable) this.log.warn({ err, task: task.name }, "purge failed; next run retries");
          else this.log.error({ err, task: task.name }, "purge failed: a bug");
          done = true;
        }
        if (done) open = open.filter((t) => t !== task);
        if (stop()) break;
      }
    }
    return { purged, complete: open.length === 0 };
  }

  private jittered(): number {
    return this.intervalMs * (0.8 + Math.random() * 0.4);
  }
}
