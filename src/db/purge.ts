import type { Db } from "./client";
import { Prisma } from "../generated/prisma/client";

/**
 * Deletes at most `limit` rows of `table` that match `where`, in one statement, and returns how
 * many went. The rows are picked and locked first (`FOR UPDATE SKIP LOCKED`): a row another
 * transaction is changing right now is left for next time instead of waited for or deleted from
 * under it. `table` is one of the app's own table names, never input.
 */
export function deleteBatch(db: Db, table: string, where: Prisma.Sql, limit: number): Promise<number> {
  const name = Prisma.raw(`"${table}"`);
  return db.$executeRaw`
    DELETE FROM ${name}
     WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${name} WHERE ${where} LIMIT ${limit} FOR UPDATE SKIP LOCKED))`;
}

/** `days` days before now, for retention cut-offs (Prisma stores times in UTC; so does this). */
export const daysAgo = (days: number, now = Date.now()): Date => new Date(now - days * 86_400_000);
