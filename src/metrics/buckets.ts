import type { Logger } from "pino";
import type { Db } from "../db/client";
import { databaseUnavailable } from "../errors";

/** The width of one bucket: fine enough for a 24-hour chart, coarse enough to stay a few rows per series. */
export const BUCKET_MS = 5 * 60_000;
/** How often a process writes what it counted. A crash loses at most this much of its counts. */
export const FLUSH_MS = 10_000;

/** The dashboard's series; each has a small fixed set of labels (see AppMetrics). */
export type BucketSeries =
  | "highlevel_requests"
  | "token_refreshes"
  | "webhook_deliveries"
  | "webhook_lag_seconds"
  | "blocks_created"
  | "queue_waiting"
  | "queue_oldest_seconds";

interface Pending {
  series: BucketSeries;
  label: string;
  bucket: number;
  total: number;
  samples: number;
  max: number | null;
}

export const bucketStart = (at: number): number => at - (at % BUCKET_MS);

/**
 * The dashboard's counts, kept in PostgreSQL so that every process (web and workers) adds to the
 * same chart. Events are added up in memory, per series, label and bucket, and written every
 * FLUSH_MS in one statement that adds to what is there (`total = total + excluded.total`); the
 * last flush runs when the process stops. A process that crashes loses what it counted since its
 * last flush (at most FLUSH_MS), never more, and never counts anything twice. A flush that fails
 * (the database is away) keeps its counts for the next one.
 */
export class BucketRecorder {
  private pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private stopping = false;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly flushMs = FLUSH_MS,
  ) {}

  private entry(series: BucketSeries, label: string, at: number): Pending {
    const bucket = bucketStart(at);
    const key = `${series}\u0000${label}\u0000${bucket}`;
    let entry = this.pending.get(key);
    if (!entry) {
      entry = { series, label, bucket, total: 0, samples: 0, max: null };
      this.pending.set(key, entry);
    }
    return entry;
  }

  /** A counter moved: `count` events now. */
  count(series: BucketSeries, label: string, count = 1, at = Date.now()): void {
    const entry = this.entry(series, label, at);
    entry.total += count;
    entry.samples += count;
  }

  /** A measured value (a lag, a sampled depth): summed for the average, and the bucket's largest kept. */
  observe(series: BucketSeries, label: string, value: number, at = Date.now()): void {
    const entry = this.entry(series, label, at);
    entry.total += value;
    entry.samples += 1;
    entry.max = entry.max === null ? value : Math.max(entry.max, value);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }

  /** No more timed flushes; what is still pending is written now. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopping = true;
    await this.flush();
  }

  /** Writes what was counted since the last flush; one flush at a time. */
  flush(): Promise<void> {
    return (this.flushing ??= this.write().finally(() => (this.flushing = undefined)));
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    try {
      await this.db.$executeRaw`
        INSERT INTO metric_buckets AS b (series, label, bucket_start, total, samples, max)
        SELECT series, label, to_timestamp(bucket / 1000.0), total, samples, max
          FROM unnest(${batch.map((e) => e.series)}::text[], ${batch.map((e) => e.label)}::text[],
                      ${batch.map((e) => e.bucket)}::float8[], ${batch.map((e) => e.total)}::float8[],
                      ${batch.map((e) => e.samples)}::int[], ${batch.map((e) => e.max)}::float8[])
            AS e(series, label, bucket, total, samples, max)
        ON CONFLICT (series, label, bucket_start) DO UPDATE
           SET total = b.total + excluded.total, samples = b.samples + excluded.samples,
               max = GREATEST(b.max, excluded.max)`;
    } catch (err) {
      const down = databaseUnavailable(err);
      // A database gone is one line without a stack. Stopping, there is no next flush: the counts
      // are given up, as a crash would; not a warning (a terminal's Ctrl-C stops the demo's
      // embedded database too, often first).
      const why = down
        ? { reason: err instanceof Error ? err.message.trim().split("\n").at(-1) : String(err) }
        : { err };
      if (this.stopping) {
        this.log[down ? "info" : "warn"](
          { ...why, series: batch.length },
          "dashboard counts since the last flush not written: stopping",
        );
        return;
      }
      // Put back, added to whatever came in meanwhile: the next flush tries again.
      for (const e of batch) {
        const entry = this.entry(e.series, e.label, e.bucket);
        entry.total += e.total;
        entry.samples += e.samples;
        if (e.max !== null) entry.max = entry.max === null ? e.max : Math.max(entry.max, e.max);
      }
      this.log.warn({ ...why, series: batch.length }, "dashboard counts not written; the next flush retries");
    }
  }
}
