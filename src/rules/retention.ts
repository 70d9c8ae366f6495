import type { Db } from "../db/client";
import { daysAgo, deleteBatch } from "../db/purge";
import { Prisma } from "../generated/prisma/client";

/**
 * Appointments over for `days` (and untouched as long) go with every mirrored block they had:
 * their blocks lie in the past, and a delivery about them now would be a replay. A state whose
 * delivery never carried a usable end time goes the same way, unless a block of it still stands
 * (rows from before the end time was kept). A state under lease is being worked: it stays.
 */
export async function purgeEndedAppointments(db: Db, limit: number, days: number): Promise<number> {
  const cutoff = daysAgo(days);
  const rows = await db.$queryRaw<{ n: number }[]>`
    WITH picked AS (
      SELECT s.id FROM appointment_states s
       WHERE s.updated_at < ${cutoff}
         AND (s.lease_until IS NULL OR s.lease_until < now())
         AND (s.ends_at < ${cutoff}
              OR (s.ends_at IS NULL AND NOT EXISTS (
                    SELECT 1 FROM mirrored_blocks m
                     WHERE m.appointment_id = s.id AND m.status IN ('active', 'creating'))))
       LIMIT ${limit} FOR UPDATE SKIP LOCKED
    ), blocks AS (
      DELETE FROM mirrored_blocks m USING picked p WHERE m.appointment_id = p.id
    ), states AS (
      DELETE FROM appointment_states s USING picked p WHERE s.id = p.id RETURNING 1
    )
    SELECT count(*)::int AS n FROM states`;
  return rows[0]?.n ?? 0;
}

/**
 * Blocks deleted `days` ago are forgotten: with no row, a later delivery creates afresh exactly
 * as it would over a `deleted` one, and HighLevel no longer has the block to look up.
 */
export function purgeDeletedBlocks(db: Db, limit: number, days: number): Promise<number> {
  return deleteBatch(db, "mirrored_blocks", Prisma.sql`status = 'deleted' AND updated_at < ${daysAgo(days)}`, limit);
}
