import type { Logger } from "pino";
import type { Db } from "../db/client";
import { QUEUES } from "../jobs/queue";
import type { BucketRecorder } from "./buckets";

export interface QueueRow {
  name: string;
  state: string;
  count: number;
  /**
   * Seconds the longest-waiting entry in this state has been due (since its start time: created, or
   * put back until a rate limit resets, or a retry's time). Entries not yet due are not late.
   */
  oldest: number | null;
}

/** Entries waiting to be worked: new ones and ones waiting for a retry. */
const WAITING = new Set(["created", "retry"]);

/** The queue by name and state: what /metrics' queue gauges show and the dashboard samples. */
export async function readQueue(db: Db, log: Logger): Promise<QueueRow[]> {
  try {
    return await db.$queryRaw<QueueRow[]>`
      SELECT name, state::text AS state, count(*)::int AS count,
             extract(epoch FROM now() - min(start_after) FILTER (WHERE start_after <= now()))::float8 AS oldest
        FROM pgboss.job GROUP BY name, state`;
  } catch (err) {
    // Before the queue made its schema (a first start) there is nothing to count.
    log.warn({ err }, "queue metrics not read");
    return [];
  }
}

/** Per queue: entries waiting, and the age of the oldest of them. */
export function waiting(rows: QueueRow[]): Map<string, { count: number; oldest: number }> {
  const byQueue = new Map<string, { count: number; oldest: number }>();
  for (const row of rows) {
    if (!WAITING.has(row.state)) continue;
    const q = byQueue.get(row.name) ?? { count: 0, oldest: 0 };
    q.count += row.count;
    q.oldest = Math.max(q.oldest, row.oldest ?? 0);
    byQueue.set(row.name, q);
  }
  return byQueue;
}

/** Samples a minute apart; the dashboard keeps the largest per bucket. */
export const SAMPLE_MS = 60_000;

/**
 * Samples the queue's depth and oldest waiting entry into the dashboard's buckets, once per
 * interval whichever process gets there first (every process tries; a row in metric_samplers says
 * when the last sample was taken, and only the process whose update moves it samples). One process
 * per sample, not one per process: the depth is the whole service's, read from PostgreSQL.
 */
export class QueueSampler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<boolean> | undefined;

  constructor(
    private readonly db: Db,
    private readonly recorder: BucketRecorder,
    private readonly log: Logger,
    private readonly intervalMs = SAMPLE_MS,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.running = this.sampleOnce().catch((err: unknown) => {
        this.log.warn({ err }, "queue not sampled");
        return false;
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** True when this process took the sample (no other one took it within the interval). */
  async sampleOnce(): Promise<boolean> {
    // A little short of the interval: timers of one process drift, and a sample skipped is worse than one early.
    const seconds = (this.intervalMs * 0.9) / 1000;
    const claimed = await this.db.$queryRaw<{ name: string }[]>`
      INSERT INTO metric_samplers AS s (name, sampled_at) VALUES ('queue', now())
      ON CONFLICT (name) DO UPDATE SET sampled_at = now()
       WHERE s.sampled_at <= now() - make_interval(secs => ${seconds}::float8)
      RETURNING name`;
    if (claimed.length === 0) return false;
    const byQueue = waiting(await readQueue(this.db, this.log));
    for (const queue of Object.values(QUEUES)) {
      const q = byQueue.get(queue) ?? { count: 0, oldest: 0 };
      this.recorder.observe("queue_waiting", queue, q.count);
      this.recorder.observe("queue_oldest_seconds", queue, q.oldest);
    }
    return true;
  }
}
