import { setImmediate as nextTurn } from "node:timers/promises";
import type { Principal } from "../auth/api-keys";
import { tenancyWhere } from "../auth/scope";
import type { JobStatus } from "../bulk/service";
import type { Db } from "../db/client";
import type { BulkItemStatus } from "../generated/prisma/client";
import { CSV_COLUMNS } from "../bulk/input";
import { csvText } from "../util/csv";

export const RECENT_JOBS = 50;
export const FAILED_ITEMS_SHOWN = 500;

export type Counts = Record<BulkItemStatus, number>;

/** Keeps the rule of BulkService.view (src/bulk/service.ts), for many jobs in two queries instead of two per job. */
export function jobStatus(cancelled: boolean, counts: Counts, started: boolean): JobStatus {
  if (cancelled) return "cancelled";
  if (counts.pending === 0) return counts.failed > 0 ? "done_with_errors" : "done";
  // Items refused at submission are failed without having started: they do not make a job run.
  return started || counts.succeeded + counts.skipped > 0 ? "running" : "queued";
}

/** Bar segments and words for a job's progress; shared by the list and the detail page. */
export function progress(total: number, counts: Counts) {
  const finished = counts.succeeded + counts.skipped + counts.failed + counts.cancelled;
  const pct = (n: number) => (total > 0 ? (100 * n) / total : 0);
  return {
    finished,
    percent: Math.round(pct(finished)),
    segments: [
      { kind: "succeeded", x: 0, width: pct(counts.succeeded) },
      { kind: "skipped", x: pct(counts.succeeded), width: pct(counts.skipped) },
      { kind: "failed", x: pct(counts.succeeded + counts.skipped), width: pct(counts.failed) },
      { kind: "cancelled", x: pct(counts.succeeded + counts.skipped + counts.failed), width: pct(counts.cancelled) },
    ].filter((s) => s.width > 0),
    text: `${finished} of ${total} finished: ${counts.succeeded} succeeded, ${counts.skipped} already there, ${counts.failed} failed, ${counts.cancelled} cancelled, ${counts.pending} pending`,
  };
}

export async function recentJobs(db: Db, principal: Principal) {
  const jobs = await db.bulkJob.findMany({
    // What GET /api/block-slots/bulk/:id lets the key read: its agency's or sub-account's jobs, or all.
    where: tenancyWhere(principal),
    orderBy: { createdAt: "desc" },
    take: RECENT_JOBS,
  });
  const ids = jobs.map((j) => j.id);
  const [byStatus, startedRows] = ids.length
    ? await Promise.all([
        db.bulkItem.groupBy({ by: ["jobId", "status"], where: { jobId: { in: ids } }, _count: { _all: true } }),
        db.bulkItem.groupBy({
          by: ["jobId"],
          where: { jobId: { in: ids }, startedAt: { not: null } },
          _count: { _all: true },
        }),
      ])
    : [[], []];
  const started = new Set(startedRows.map((r) => r.jobId));
  return jobs.map((job) => {
    const counts: Counts = { pending: 0, succeeded: 0, failed: 0, skipped: 0, cancelled: 0 };
    for (const g of byStatus) if (g.jobId === job.id) counts[g.status] = g._count._all;
    return {
      id: job.id,
      source: job.source,
      total: job.total,
      createdAt: job.createdAt,
      counts,
      status: jobStatus(job.cancelledAt !== null, counts, started.has(job.id)),
      progress: progress(job.total, counts),
    };
  });
}

/** The first failed items of a job the caller was already found to see (BulkService.view). */
export function failedItems(db: Db, jobId: string) {
  return db.bulkItem.findMany({
    where: { jobId, status: "failed" },
    orderBy: { index: "asc" },
    take: FAILED_ITEMS_SHOWN,
    select: {
      index: true,
      line: true,
      locationId: true,
      calendarId: true,
      assignedUserId: true,
      startTime: true,
      endTime: true,
      errorCode: true,
      errorDetail: true,
    },
  });
}

const CSV_PAGE = 1000;

/**
 * A job's failed items as CSV, the columns of the bulk CLI's failures file: the CSV line (or, for
 * a JSON job, the item's index), the error and the item's fields, every cell neutralised. Read and
 * written a page at a time so a job of 10,000 failures never holds the event loop.
 */
export async function* failedItemsCsv(db: Db, jobId: string, fromCsv: boolean): AsyncGenerator<string> {
  yield csvText([[fromCsv ? "line" : "item", "errorCode", "errorDetail", ...CSV_COLUMNS]]);
  for (let after = -1; ;) {
    const page = await db.bulkItem.findMany({
      where: { jobId, status: "failed", index: { gt: after } },
      orderBy: { index: "asc" },
      take: CSV_PAGE,
    });
    if (page.length === 0) return;
    yield csvText(
      page.map((i) => [
        fromCsv ? (i.line ?? "") : i.index,
        i.errorCode ?? "",
        i.errorDetail ?? "",
        ...CSV_COLUMNS.map((c) => i[c] ?? ""),
      ]),
    );
    after = page.at(-1)!.index;
    await nextTurn();
  }
}
