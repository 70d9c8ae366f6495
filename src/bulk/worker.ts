import type { Logger } from "pino";
import type { BlockSlotService } from "../block-slots/service";
import type { Db } from "../db/client";
import { asAppError } from "../errors";
import { QUEUES, sendByForLease, type JobQueue, type WorkOptions } from "../jobs/queue";
import { rateLimitWait } from "../jobs/rate-limited";
import type { BulkItemRef } from "./service";

/** Transient failures before an item fails for good with its last reason. */
const MAX_FAILURES = 5;

interface ClaimedItem {
  location_id: string;
  calendar_id: string | null;
  assigned_user_id: string | null;
  start_time: string;
  end_time: string;
  title: string | null;
  failures: number;
  was_sent: boolean;
  source: string;
  /** The job was cancelled after this item started (it waited for a rate limit, or a retry). */
  cancelled: boolean;
}

/**
 * Creates the block slot of each queued bulk item, at most once:
 * - an item is claimed only while `pending`, so a finished or cancelled one is never redone;
 * - a claim is a lease: a second queue entry for the same item (a retry racing a slow run) backs off;
 * - `sent` is set before the create goes out; an item claimed again with `sent` set (the process
 *   died, the answer was lost) looks for its block in HighLevel before sending anything.
 */
export class BulkWorker {
  constructor(
    private readonly db: Db,
    private readonly slots: BlockSlotService,
    private readonly queue: JobQueue,
    private readonly log: Logger,
    /** How long a claim holds: the queue's job time-out, after which a dead worker's item is free again. */
    private readonly leaseSeconds: number,
  ) {}

  /** Items of a batch run side by side; one item's failure never touches another's. */
  start(options: WorkOptions): Promise<void> {
    return this.queue.workEach<BulkItemRef>(QUEUES.bulkItem, options, (item) => this.process(item), {
      log: this.log,
      message: "bulk item will be retried",
    });
  }

  /** Throws to have the queue retry the item later. */
  async process({ jobId, index }: BulkItemRef): Promise<void> {
    const sendBy = sendByForLease(this.leaseSeconds);
    const [item] = await this.db.$queryRaw<ClaimedItem[]>`
      WITH before AS (
        SELECT sent FROM bulk_items
        WHERE job_id = ${jobId}::uuid AND index = ${index} AND status = 'pending'
          AND (lease_until IS NULL OR lease_until < now())
        FOR UPDATE
      )
      UPDATE bulk_items
      SET sent = true, started_at = coalesce(started_at, now()), updated_at = now(),
          lease_until = now() + make_interval(secs => ${this.leaseSeconds})
      FROM before
      WHERE job_id = ${jobId}::uuid AND index = ${index}
      RETURNING location_id, calendar_id, assigned_user_id, start_time, end_time, title, failures, before.sent AS was_sent,
                (SELECT source FROM bulk_jobs j WHERE j.id = bulk_items.job_id) AS source,
                (SELECT cancelled_at IS NOT NULL FROM bulk_jobs j WHERE j.id = bulk_items.job_id) AS cancelled`;
    if (!item) {
      // Done, failed for good or cancelled: nothing to do. Still pending: another worker holds the
      // lease (a slow run, or a dead one whose lease has not run out) — try again later.
      const held = await this.db.bulkItem.count({ where: { jobId, index, status: "pending" } });
      if (held > 0) throw new Error(`bulk item ${jobId}#${index} is held by another worker`);
      return;
    }

    const where = { jobId_index: { jobId, index } };
    const body = {
      ...(item.calendar_id ? { calendarId: item.calendar_id } : { assignedUserId: item.assigned_user_id! }),
      startTime: item.start_time,
      endTime: item.end_time,
      ...(item.title ? { title: item.title } : {}),
    };
    const origin = { origin: item.source === "trigger" ? "trigger" : "bulk", originId: jobId } as const;
    try {
      if (item.cancelled) {
        // Nothing new is made for a cancelled job. An item sent before may have made its block:
        // one found is the item's, and is kept as made; otherwise the item is cancelled.
        const found = item.was_sent ? await this.slots.lookUp(item.location_id, body, origin) : undefined;
        await this.db.bulkItem.update({
          where,
          data: found
            ? { status: "succeeded", blockSlotId: found.id, errorCode: null, errorDetail: null, leaseUntil: null }
            : { status: "cancelled", leaseUntil: null },
        });
        return;
      }
      // The same block made before by this app and still there (a file submitted twice) is not made again.
      // An item already sent once looks in HighLevel anyway, and finds its own block.
      const made = item.was_sent ? undefined : await this.slots.existing(item.location_id, body);
      if (made) {
        await this.db.bulkItem.update({
          where,
          data: { status: "skipped", blockSlotId: made.id, errorCode: null, errorDetail: null, leaseUntil: null },
        });
        return;
      }
      const slot = await this.slots.create(item.location_id, body, {
        lookFirst: item.was_sent,
        sendBy,
        origin,
        actor: { kind: "bulk_job", id: jobId, name: item.source },
      });
      await this.db.bulkItem.update({
        where,
        data: { status: "succeeded", blockSlotId: slot.id, errorCode: null, errorDetail: null, leaseUntil: null },
      });
    } catch (err) {
      const wait = rateLimitWait(err);
      if (wait) {
        // Not a failure (src/jobs/rate-limited.ts): the location's budget is spent. The item says why it
        // waits, and comes back when the budget does.
        await this.db.bulkItem.update({
          where,
          data: { leaseUntil: null, errorCode: "rate_limited", errorDetail: wait.detail },
        });
        await this.queue.send(QUEUES.bulkItem, { jobId, index }, { startAfter: wait.resumesAt });
        return;
      }
      const error = asAppError(err);
      const failures = item.failures + 1;
      const final = !error.retryable || failures >= MAX_FAILURES;
      // A bug fails the item once, loudly; repeating it would only hide it.
      if (error.code === "internal_error") this.log.error({ err, jobId, index }, "bulk item failed: a bug");
      await this.db.bulkItem.update({
        where,
        data: {
          failures,
          errorCode: error.code,
          errorDetail: error.message,
          leaseUntil: null,
          ...(final ? { status: "failed" } : {}),
        },
      });
      if (!final) throw err;
    }
  }
}
