import type { Db } from "../db/client";
import { daysAgo } from "../db/purge";
import { QUEUE_RETENTION_DAYS } from "../jobs/queue";

/**
 * Bulk jobs submitted more than `days` ago go once finished (no item pending), items first in
 * batches of `limit` — a job may hold 10,000 of them, too many for one statement's cascade — then
 * the emptied jobs. A job still pending is kept until no queue entry can work it any more (its
 * retention in the queue has passed as well): by then it will never finish.
 */
export async function purgeFinishedJobs(db: Db, limit: number, days: number): Promise<number> {
  const cutoff = daysAgo(days);
  const abandoned = daysAgo(days + QUEUE_RETENTION_DAYS);
  const items = await db.$executeRaw`
    DELETE FROM bulk_items
     WHERE ctid = ANY(ARRAY(
       SELECT i.ctid FROM bulk_items i
        WHERE i.job_id IN (
          SELECT j.id FROM bulk_jobs j
           WHERE j.created_at < ${cutoff}
             AND (j.created_at < ${abandoned}
                  OR NOT EXISTS (SELECT 1 FROM bulk_items p WHERE p.job_id = j.id AND p.status = 'pending'))
           ORDER BY j.created_at LIMIT ${limit})
        LIMIT ${limit} FOR UPDATE SKIP LOCKED))`;
  if (items >= limit) return items;
  const jobs = await db.$executeRaw`
    DELETE FROM bulk_jobs
     WHERE ctid = ANY(ARRAY(
       SELECT j.ctid FROM bulk_jobs j
        WHERE j.created_at < ${cutoff} AND NOT EXISTS (SELECT 1 FROM bulk_items i WHERE i.job_id = j.id)
        ORDER BY j.created_at LIMIT ${limit} FOR UPDATE SKIP LOCKED))`;
  return items + jobs;
}
