import { UUID } from "../util/ids";
import type { Principal } from "../auth/api-keys";
import type { AccessPolicy } from "../auth/scope";
import type { BulkItemInput } from "../block-slots/schemas";
import type { Db } from "../db/client";
import type { BulkItemStatus } from "../generated/prisma/client";
import { AppError } from "../errors";
import { QUEUES, type JobQueue } from "../jobs/queue";

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
  }[];
}

const CHUNK = 1000;
const notFound = (id: string) => new AppError("not_found", `There is no bulk job ${id}.`);

/** Submitting, reading and cancelling bulk jobs; the work itself is done by BulkWorker. */
export class BulkService {
  constructor(
    private readonly db: Db,
    private readonly queue: JobQueue,
    private readonly access: AccessPolicy,
  ) {}

  /** Stores the job, its items and one queue entry per item in one transaction. */
  async submit(
    principal: Principal,
    items: BulkItemInput[],
    source: string,
  ): Promise<{ id: string; status: JobStatus; total: number }> {
    await this.access.assertLocations(principal, [...new Set(items.map((i) => i.locationId))]);
    const id = await this.db.$transaction(
      async (tx) => {
        const job = await tx.bulkJob.create({ data: { owner: principal.id, source, total: items.length } });
        for (let start = 0; start < items.length; start += CHUNK) {
          await tx.bulkItem.createMany({
            data: items.slice(start, start + CHUNK).map((item, k) => ({
              jobId: job.id,
              index: start + k,
              locationId: item.locationId,
              calendarId: item.calendarId ?? null,
              assignedUserId: item.assignedUserId ?? null,
              startTime: item.startTime,
              endTime: item.endTime,
              title: item.title ?? null,
            })),
          });
        }
        await this.queue.insertWithin(
          tx,
          QUEUES.bulkItem,
          items.map((_, index) => ({ data: { jobId: job.id, index } satisfies BulkItemRef })),
        );
        return job.id;
      },
      { timeout: 60_000, maxWait: 10_000 },
    );
    return { id, status: "queued", total: items.length };
  }

  private async ownJob(principal: Principal, id: string) {
    if (!UUID.test(id)) throw notFound(id);
    const job = await this.db.bulkJob.findUnique({ where: { id } });
    // Another key's job is "not found": its existence is not this caller's business.
    if (!job || (job.owner !== principal.id && principal.scope !== "all")) throw notFound(id);
    return job;
  }

  async view(principal: Principal, id: string, filter: ItemFilter = "all"): Promise<JobView> {
    const job = await this.ownJob(principal, id);
    const groups = await this.db.$queryRaw<{ status: BulkItemStatus; started: boolean; n: number }[]>`
      SELECT status, (started_at IS NOT NULL) AS started, count(*)::int AS n
      FROM bulk_items WHERE job_id = ${id}::uuid GROUP BY 1, 2`;
    const counts: Record<BulkItemStatus, number> = { pending: 0, succeeded: 0, failed: 0, skipped: 0, cancelled: 0 };
    for (const g of groups) counts[g.status] += g.n;
    const started = groups.some((g) => g.started || (g.status !== "pending" && g.status !== "cancelled"));
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
      const rows = await this.db.bulkItem.findMany({
        where: { jobId: id, ...(filter === "failed" ? { status: "failed" } : {}) },
        orderBy: { index: "asc" },
        select: { index: true, locationId: true, status: true, blockSlotId: true, errorCode: true, errorDetail: true },
      });
      view.items = rows.map((r) => ({
        index: r.index,
        locationId: r.locationId,
        status: r.status,
        ...(r.blockSlotId ? { blockSlotId: r.blockSlotId } : {}),
        // A failed item's reason; a pending one's only when it waits for HighLevel's rate limit.
        ...((r.status === "failed" && r.errorCode) || (r.status === "pending" && r.errorCode === "rate_limited")
          ? { error: { code: r.errorCode, detail: r.errorDetail ?? "" } }
          : {}),
      }));
    }
    return view;
  }

  /** Cancels what has not started; items already under way finish (their outcome is kept). */
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
