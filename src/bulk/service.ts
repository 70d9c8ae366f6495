import { UUID } from "../util/ids";
import type { Principal } from "../auth/api-keys";
import { seesTenancy, tenancyOf, type AccessPolicy } from "../auth/scope";
import type { Db } from "../db/client";
import type { BulkItemStatus, Prisma } from "../generated/prisma/client";
import { AppError } from "../errors";
import { QUEUES, type JobQueue } from "../jobs/queue";
import type { BulkEntry } from "./input";

export type JobStatus = "queued" | "running" | "done" | "done_with_errors" | "cancelled";
export type ItemFilter = "all" | "failed" | "none";

/** What a queued bulk-item job carries: a pointer, never the data (the row is the truth). */
export interface BulkItemRef {
  jobId: string;
  index: number;
}

export interface JobView {
  id: string;
  source: string;
  status: JobStatus;
  total: number;
  createdAt: Date;
  counts: Record<BulkItemStatus, number>;
  items?: {
    index: number;
    locationId: string;
    status: BulkItemStatus;
    blockSlotId?: string;
    error?: { code: string; detail: string };
    /** The CSV line the item came from. */
    line?: number;
  }[];
}

/** Rows per statement (insert, and a page of a read): 1,000 took about 10 ms of CPU in one turn of the event loop. */
const CHUNK = 250;

/**
 * Inserts items as one JSON parameter expanded by PostgreSQL. Prisma's createMany compiled each
 * call's rows into its query for 2 ms or more of CPU a row: 20 s with the event loop held, in
 * slices, for a job of 10,000 (measured). This costs about a hundredth of that.
 */
async function insertItems(tx: Prisma.TransactionClient, jobId: string, first: number, entries: BulkEntry[]) {
  const rows = entries.map((entry, k) => {
    const fields =
      "item" in entry
        ? { ...entry.item, status: "pending", errorCode: null, errorDetail: null }
        : {
            ...entry.refused.fields,
            status: "failed",
            errorCode: "invalid_request",
            errorDetail: entry.refused.reasons,
          };
    return {
      index: first + k,
      line: entry.line ?? null,
      location_id: fields.locationId,
      calendar_id: fields.calendarId || null,
      assigned_user_id: fields.assignedUserId || null,
      start_time: fields.startTime,
      end_time: fields.endTime,
      title: fields.title || null,
      status: fields.status,
      error_code: fields.errorCode,
      error_detail: fields.errorDetail,
    };
  });
  await tx.$executeRaw`
    INSERT INTO bulk_items (job_id, index, line, location_id, calendar_id, assigned_user_id, start_time, end_time,
                            title, status, error_code, error_detail, updated_at)
    SELECT ${jobId}::uuid, r.index, r.line, r.location_id, r.calendar_id, r.assigned_user_id, r.start_time, r.end_time,
           r.title, r.status::"BulkItemStatus", r.error_code, r.error_detail, now()
    FROM json_to_recordset(${JSON.stringify(rows)}::json) AS r(
      index int, line int, location_id text, calendar_id text, assigned_user_id text, start_time text,
      end_time text, title text, status text, error_code text, error_detail text)`;
}
const notFound = (id: string) => new AppError("not_found", `There is no bulk job ${id}.`);

/** Submitting, reading and cancelling bulk jobs; the work itself is done by BulkWorker. */
export class BulkService {
  constructor(
    private readonly db: Db,
    private readonly queue: JobQueue,
    private readonly access: AccessPolicy,
  ) {}

  /**
   * Stores the job, its items and one queue entry per valid item in one transaction. Refused
   * items (`?invalid=skip`) are stored already failed, with their reasons, and never queued.
   */
  /**
   * `request`: the Idempotency-Key it came with (`requestKeyOf`) and whether an earlier attempt with
   * it may have had an effect: then the job that attempt made, if it made one, is the answer.
   */
  async submit(
    principal: Principal,
    entries: BulkEntry[],
    source: string,
    request: { key?: string; resumed?: boolean } = {},
  ): Promise<{ id: string; status: JobStatus; total: number }> {
    const queued = entries.flatMap((entry, index) => ("item" in entry ? [{ index, item: entry.item }] : []));
    const locations = [...new Set(queued.map((q) => q.item.locationId))];
    await this.access.assertLocations(principal, locations);
    if (request.key && request.resumed) {
      const earlier = await this.db.bulkJob.findFirst({
        where: { requestKey: request.key, owner: principal.id },
        orderBy: { createdAt: "desc" },
      });
      if (earlier) return { id: earlier.id, status: "queued", total: earlier.total };
    }
    // Who sees the job: where it acts. A full-access job counts the locations its refused rows name
    // too, so one agency's keys never read rows meant for another; a scoped key's refused rows are
    // its own typing, and do not hide its job from it.
    const refused = entries.flatMap((e) =>
      "refused" in e && e.refused.fields.locationId ? [e.refused.fields.locationId] : [],
    );
    const where = await tenancyOf(this.db, principal.scope === "all" ? [...locations, ...refused] : locations);
    const id = await this.db.$transaction(
      async (tx) => {
        const job = await tx.bulkJob.create({
          data: { owner: principal.id, source, total: entries.length, requestKey: request.key ?? null, ...where },
        });
        for (let start = 0; start < entries.length; start += CHUNK) {
          await insertItems(tx, job.id, start, entries.slice(start, start + CHUNK));
        }
        for (let start = 0; start < queued.length; start += CHUNK) {
          await this.queue.insertWithin(
            tx,
            QUEUES.bulkItem,
            queued
              .slice(start, start + CHUNK)
              .map(({ index }) => ({ data: { jobId: job.id, index } satisfies BulkItemRef })),
          );
        }
        return job.id;
      },
      { timeout: 60_000, maxWait: 10_000 },
    );
    return { id, status: "queued", total: entries.length };
  }

  private async ownJob(principal: Principal, id: string) {
    if (!UUID.test(id)) throw notFound(id);
    const job = await this.db.bulkJob.findUnique({ where: { id } });
    // A job that reaches beyond the key's scope is "not found": its existence is not this caller's business.
    if (!job || !seesTenancy(principal, job)) throw notFound(id);
    return job;
  }

  async view(principal: Principal, id: string, filter: ItemFilter = "all"): Promise<JobView> {
    const job = await this.ownJob(principal, id);
    const groups = await this.db.$queryRaw<{ status: BulkItemStatus; started: boolean; n: number }[]>`
      SELECT status, (started_at IS NOT NULL) AS started, count(*)::int AS n
      FROM bulk_items WHERE job_id = ${id}::uuid GROUP BY 1, 2`;
    const counts: Record<BulkItemStatus, number> = { pending: 0, succeeded: 0, failed: 0, skipped: 0, cancelled: 0 };
    for (const g of groups) counts[g.status] += g.n;
    // Items refused at submission are failed without having started: they do not make a job run.
    const started = groups.some((g) => g.started || g.status === "succeeded" || g.status === "skipped");
    const status: JobStatus = job.cancelledAt
      ? "cancelled"
      : counts.pending === 0
        ? counts.failed > 0
          ? "done_with_errors"
          : "done"
        : started
          ? "running"
          : "queued";

    const view: JobView = { id, source: job.source, status, total: job.total, createdAt: job.createdAt, counts };
    if (filter !== "none") {
      view.items = [];
      // A page at a time: reading 10,000 rows in one query held the event loop for over 100 ms.
      for (let after = -1; ;) {
        const rows = await this.db.bulkItem.findMany({
          where: { jobId: id, index: { gt: after }, ...(filter === "failed" ? { status: "failed" } : {}) },
          orderBy: { index: "asc" },
          take: CHUNK,
          select: {
            index: true,
            line: true,
            locationId: true,
            status: true,
            blockSlotId: true,
            errorCode: true,
            errorDetail: true,
          },
        });
        for (const r of rows) {
          view.items.push({
            index: r.index,
            locationId: r.locationId,
            status: r.status,
            ...(r.blockSlotId ? { blockSlotId: r.blockSlotId } : {}),
            // A failed item's reason; a pending one's only when it waits for HighLevel's rate limit.
            ...((r.status === "failed" && r.errorCode) || (r.status === "pending" && r.errorCode === "rate_limited")
              ? { error: { code: r.errorCode, detail: r.errorDetail ?? "" } }
              : {}),
            ...(r.line !== null ? { line: r.line } : {}),
          });
        }
        if (rows.length < CHUNK) break;
        after = rows.at(-1)!.index;
      }
    }
    return view;
  }

  /**
   * Cancels what has not started. An item under way finishes (its outcome is kept); one that
   * started and is waiting (for a rate limit, for a retry) is cancelled when it comes back, unless
   * HighLevel already holds its block (src/bulk/worker.ts).
   */
  async cancel(principal: Principal, id: string): Promise<JobView> {
    await this.ownJob(principal, id);
    await this.db.$transaction([
      this.db.bulkJob.updateMany({ where: { id, cancelledAt: null }, data: { cancelledAt: new Date() } }),
      this.db.bulkItem.updateMany({
        where: { jobId: id, status: "pending", startedAt: null },
        data: { status: "cancelled" },
      }),
    ]);
    return this.view(principal, id, "none");
  }
}
