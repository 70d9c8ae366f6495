import { createHash } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import { Pool } from "pg";
import { PrismaClient, type Prisma } from "../generated/prisma/client";

export type Db = PrismaClient;

/** The node-postgres pool under each client made here, for `executeStatement`. */
const pools = new WeakMap<Db, Pool>();

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
  const db = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(db, pool);
  return db;
}

/** Prepared-statement names by SQL text: the same text always gets the same name. */
const names = new Map<string, string>();
const nameOf = (text: string) => {
  let name = names.get(text);
  if (!name) {
    name = `s_${createHash("sha1").update(text).digest("hex").slice(0, 16)}`;
    if (names.size < 100) names.set(text, name);
  }
  return name;
};

/**
 * Runs one raw statement on the client's own pool, prepared once per connection, and returns the
 * rows it touched. For the statement every block create runs (DECISIONS #40): Prisma's raw path
 * costs about 0.15 ms more CPU per call than node-postgres, and PostgreSQL plans it every time.
 * Dates are sent as ISO instants: right for timestamptz columns, and, with the session in UTC, for
 * the timestamp columns Prisma keeps in UTC; node-postgres would send the host's local time.
 * A client not made by `createDb` (none in the app) goes through Prisma.
 */
export async function executeStatement(db: Db, sql: Prisma.Sql): Promise<number> {
  const pool = pools.get(db);
  if (!pool) return db.$executeRaw(sql);
  const values = sql.values.map((v) => (v instanceof Date ? v.toISOString() : v));
  const result = await pool.query({ name: nameOf(sql.text), text: sql.text, values });
  return result.rowCount ?? 0;
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
