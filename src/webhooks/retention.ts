import type { Db } from "../db/client";
import { daysAgo, deleteBatch } from "../db/purge";
import { Prisma } from "../generated/prisma/client";
import { QUEUE_RETENTION_DAYS } from "../jobs/queue";

/**
 * Deliveries (customer data) received more than `days` ago go once worked: processed, ignored or
 * failed. One still `received` is waiting for a retry and stays, until it is older than any queue
 * entry can live as well: then nothing will ever work it. A replay of a purged delivery is
 * refused as stale when it carries a timestamp; one without is stored again, and an appointment's
 * own state (kept until well after it ends) makes an older delivery of it change nothing.
 */
export function purgeWorkedDeliveries(db: Db, limit: number, days: number): Promise<number> {
  const where = Prisma.sql`received_at < ${daysAgo(days)}
    AND (status <> 'received' OR received_at < ${daysAgo(days + QUEUE_RETENTION_DAYS)})`;
  return deleteBatch(db, "webhook_events", where, limit);
}
