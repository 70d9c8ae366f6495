import { setTimeout as sleep } from "node:timers/promises";
import PgBoss from "pg-boss";
import type { Logger } from "pino";
import { databaseShuttingDown, databaseUnavailable } from "../errors";
import type { Prisma } from "../generated/prisma/client";

/**
 * The latest moment a queued create may be sent, for work that just took a lease of `leaseSeconds`
 * on its item: well inside the lease, leaving room for the request itself (HighLevel's time-out
 * is 10 s), so no second worker can take the item over while the first one's create is out.
 */
export const sendByForLease = (leaseSeconds: number, now = Date.now()): number =>
  now + Math.max(leaseSeconds * 500, leaseSeconds * 1000 - 15_000);

/** Queue names. One queue per kind of work, so each has its own retry and time-out policy. */
export const QUEUES = {
  bulkItem: "bulk-item",
  webhook: "webhook",
  planBlock: "plan-block",
  /** One per location an agency install connects: mint its token from the agency's. */
  locationMint: "location-mint",
  /** An agency install whose code exchange did not say which locations: list them, then mint. */
  installDiscovery: "install-discovery",
  /** Read a connected location's name and time zone. */
  locationDetails: "location-details",
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/**
 * How long a queue entry may wait to be worked before pg-boss drops it (its `retention`; 14 days
 * is also pg-boss's default, set here so the rows that wait on entries can count on it). A
 * retry does not extend it. Housekeeping keeps a webhook delivery or bulk job that is still
 * pending at least this long past its own retention: until then an entry may still work it.
 */
export const QUEUE_RETENTION_DAYS = 14;

/**
 * What pg-boss keeps of finished entries (DECISIONS #28). An entry only points at our own row
 * (bulk_items, webhook_events), where the outcome is kept, so the queue keeps little: completed
 * entries leave the hot job table after an hour, failed ones after a day (time to look at a
 * failure as the queue saw it), and the archive is emptied a day later. pg-boss's defaults (12 h
 * and 7 days) kept about a week of every delivery and bulk item twice over.
 */
const ARCHIVE = {
  archiveCompletedAfterSeconds: 3600,
  archiveFailedAfterSeconds: 24 * 3600,
  deleteAfterDays: 1,
} as const;

export interface JobQueueOptions {
  /**
   * A job still active after this long is presumed dead (its process was killed) and retried.
   * It must exceed the longest honest run of one job: pacing waits and HighLevel time-outs.
   */
  timeoutSeconds: number;
}

export interface WorkOptions {
  /** Jobs fetched at once by one loop; they run concurrently. */
  batchSize: number;
  /** Fetch loops in this process. */
  loops: number;
}

/**
 * The durable queue: pg-boss in the app's own PostgreSQL (its tables live in schema `pgboss`).
 * Every app process works it; a job survives any process dying and is retried when its time is up.
 */
export class JobQueue {
  private boss: PgBoss;
  private started = false;
  private stopped = false;
  private unavailableSaidAt = 0;
  /** When "database stopping" was last said: each pooled connection reports it, once is enough. */
  private stoppingSaidAt = 0;
  /** Workers were started in this process: stop() must let pg-boss's last poll of them end. */
  private working = false;
  /** Batches being handled right now. */
  private inflight = 0;

  constructor(
    private readonly databaseUrl: string,
    private readonly log: Logger,
    private readonly options: JobQueueOptions,
  ) {
    this.boss = this.create();
  }

  private create(): PgBoss {
    const boss = new PgBoss({
      connectionString: this.databaseUrl,
      // More than the fetch loops of this process (bulk, plans, webhooks, installs: up to 10), or a
      // loop can wait for a connection forever.
      max: 16,
      application_name: "highlevel-block-slots jobs",
      // Dead jobs are found by this sweep; it is one cheap locked query shared by all processes.
      maintenanceIntervalSeconds: Math.max(1, Math.min(30, Math.floor(this.options.timeoutSeconds / 4))),
      // The same sweep archives and drops finished entries, a few seconds' worth at a time.
      ...ARCHIVE,
      schedule: false,
    });
    boss.on("error", (err: unknown) => {
      // A lost database is operational (pg-boss reconnects on its own): one line, no stack; and
      // none at all while stopping, when the database may well stop first.
      // pg-boss reports it once per pooled connection: one line per outage is enough.
      if (!databaseUnavailable(err)) this.log.error({ err }, "job queue error");
      else if (this.stopped) return;
      else if (databaseShuttingDown(err)) {
        if (Date.now() - this.stoppingSaidAt <= 30_000) return;
        this.stoppingSaidAt = Date.now();
        this.log.info({ reason: (err as Error).message }, "job queue: database stopping");
      } else if (Date.now() - this.unavailableSaidAt > 30_000) {
        this.unavailableSaidAt = Date.now();
        this.log.warn({ reason: (err as Error).message }, "job queue: database unavailable");
      }
    });
    return boss;
  }

  async start(): Promise<void> {
    if (this.started) return;
    // A stopped pg-boss cannot start again: a restart (tests, a paused worker) gets a fresh one.
    if (this.stopped) this.boss = this.create();
    this.stopped = false;
    await this.boss.start();
    this.started = true;
    const policy = {
      retryLimit: 30,
      retryDelay: 1,
      retryBackoff: true,
      expireInSeconds: this.options.timeoutSeconds,
      retentionMinutes: QUEUE_RETENTION_DAYS * 24 * 60,
    };
    for (const name of Object.values(QUEUES)) {
      await this.boss.createQueue(name, { name, ...policy });
      // A queue made by an earlier version keeps its old policy unless it is updated.
      await this.boss.updateQueue(name, { name, ...policy });
    }
  }

  /**
   * Adds jobs inside the caller's Prisma transaction: the rows that describe the work and the
   * queue entries that do it commit together, or neither does.
   */
  async insertWithin(
    tx: Prisma.TransactionClient,
    name: QueueName,
    jobs: { data: object; startAfter?: Date }[],
  ): Promise<void> {
    if (jobs.length === 0) return;
    const db = {
      executeSql: async (text: string, values: unknown[]) => ({
        rows: await tx.$queryRawUnsafe<unknown[]>(text, ...values),
      }),
    };
    await this.boss.insert(
      // The time-out travels with each job: the queue's stored policy may be another process's.
      jobs.map((j) => ({
        name,
        data: j.data,
        expireInSeconds: this.options.timeoutSeconds,
        ...(j.startAfter ? { startAfter: j.startAfter } : {}),
      })),
      { db },
    );
  }

  /**
   * `startAfter` to the millisecond: work put back for a rate limit comes back when the budget does,
   * not at the next whole second (every window of a long backlog would lose up to a second).
   */
  async send(name: QueueName, data: object, options: { startAfter?: Date } = {}): Promise<void> {
    await this.boss.send(name, data, {
      expireInSeconds: this.options.timeoutSeconds,
      ...(options.startAfter ? { startAfter: options.startAfter } : {}),
    });
  }

  /** Gives a job back as failed: pg-boss retries it after its back-off. */
  async fail(name: QueueName, id: string, reason: string): Promise<void> {
    await this.boss.fail(name, id, { message: reason });
  }

  async work<T extends object>(
    name: QueueName,
    options: WorkOptions,
    handler: (jobs: PgBoss.Job<T>[]) => Promise<void>,
  ): Promise<void> {
    this.working = true;
    for (let i = 0; i < options.loops; i++) {
      const worker: { id?: string } = {};
      const counted = async (jobs: PgBoss.Job<T>[]) => {
        this.inflight += 1;
        try {
          await handler(jobs);
        } finally {
          this.inflight -= 1;
        }
        // pg-boss waits out its polling interval after every fetch, even a full one: a backlog
        // would drain at one batch per interval. A full batch means more is waiting: fetch now.
        if (jobs.length >= options.batchSize && worker.id && !this.stopped) this.boss.notifyWorker(worker.id);
      };
      worker.id = await this.boss.work<T>(name, { batchSize: options.batchSize, pollingIntervalSeconds: 0.5 }, counted);
    }
  }

  /**
   * Works each job of a batch on its own, side by side: one job's failure never touches another's.
   * A job whose `process` throws is failed, for pg-boss to retry with its backoff; `retrying` says
   * in the log what will be tried again.
   */
  workEach<T extends object>(
    name: QueueName,
    options: WorkOptions,
    process: (data: T) => Promise<unknown>,
    retrying: { log: Logger; message: string; fields?: (data: T) => object },
  ): Promise<void> {
    return this.work<T>(name, options, async (jobs) => {
      await Promise.all(
        jobs.map(async (job) => {
          try {
            await process(job.data);
          } catch (err) {
            retrying.log.warn({ err, ...(retrying.fields?.(job.data) ?? { job: job.data }) }, retrying.message);
            await this.fail(name, job.id, err instanceof Error ? err.message : String(err)).catch((lost: unknown) => {
              // The database went away (a shutdown, an outage): the job stays active until its
              // expiry, then pg-boss hands it out again. Thrown on, pg-boss's own fail of the
              // batch would meet the same closed pool, unhandled.
              if (!databaseUnavailable(lost)) throw lost;
            });
          }
        }),
      );
    });
  }

  /** Stops fetching, lets running jobs finish (up to `timeoutMs`), then closes the pool. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.stopped = true;
    await this.boss.stop({ graceful: true, wait: true, timeout: timeoutMs });
    // pg-boss resolves stop() while its bookkeeping of stopping workers still polls once a second
    // until each has finished its batch: wait for our handlers, then for that last poll, so nothing
    // of the queue runs after stop() (a clean exit; tests that end right after).
    const deadline = Date.now() + timeoutMs;
    while (this.inflight > 0 && Date.now() < deadline) await sleep(50);
    if (this.working) await sleep(1_100);
    this.working = false;
  }
}
