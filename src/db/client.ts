import { PrismaPg } from "@prisma/adapter-pg";
import { Pool } from "pg";
import { PrismaClient } from "../generated/prisma/client";

export type Db = PrismaClient;

/**
 * Prisma's Rust-free client over node-postgres: no native engine to download (see
 * docs/DECISIONS.md). The pool is bounded so several app processes fit one server.
 */
export function createDb(connectionString: string, options: { max?: number } = {}): Db {
  const pool = new Pool({
    connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5_000,
    // Prisma sends a DateTime as UTC without a zone, which PostgreSQL reads in the session's time
    // zone: on a server whose TimeZone is not UTC every timestamptz written would move by its offset.
    options: "-c TimeZone=UTC",
  });
  return new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
}

/** Readiness: true when the database answers a trivial query. */
export async function databaseAnswers(db: Db, timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout")), timeoutMs);
    });
    await Promise.race([db.$queryRaw`SELECT 1`, timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Makes the client do its one-time start (loading its query compiler, the pool's first
 * connection) before the server listens: otherwise the first request pays it, over a second on a
 * busy machine, which the first agency install's callback did while the browser waited.
 */
export async function warmUp(db: Db): Promise<void> {
  await db.$queryRaw`SELECT 1`;
  await db.company.findFirst({ select: { id: true } });
}
