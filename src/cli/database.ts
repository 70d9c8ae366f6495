import fs from "node:fs";
import path from "node:path";
import { createLogger } from "../logger";
import { createDb, type Db } from "../db/client";
import { DATA_DIR, openDatabase } from "../db/database";
import { applyMigrations } from "../db/migrate";
import { reachableDataDir } from "../db/postgres-as-root";
import { readDotenv } from "../config";

/**
 * The embedded PostgreSQL a running `npm run demo` or `npm start` already serves from `.data/`:
 * its port is in postmaster.pid (line 4). A second server cannot open the same data directory.
 */
function runningEmbeddedUrl(): string | undefined {
  const pidFile = path.join(reachableDataDir(path.join(DATA_DIR, "postgres")), "postmaster.pid");
  if (!fs.existsSync(pidFile)) return undefined;
  const [pid, , , port] = fs.readFileSync(pidFile, "utf8").split("\n");
  try {
    process.kill(Number(pid), 0);
  } catch {
    return undefined; // a stale file: the server is gone
  }
  return `postgresql://postgres:postgres@127.0.0.1:${Number(port)}/highlevel_app`;
}

/**
 * The app's database for a command-line tool, the way the server finds it: DATABASE_URL (from
 * the environment or .env), else the embedded server under `.data/` — the running one, or one
 * started just for this command. Pending migrations are applied first.
 */
export async function withCliDatabase<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const env = readDotenv();
  const running = env.DATABASE_URL ? undefined : runningEmbeddedUrl();
  const database = running
    ? { url: running, stop: async () => {} }
    : await openDatabase(env.DATABASE_URL || undefined, createLogger("warn", process.stderr)); // stdout is the answer
  try {
    await applyMigrations(database.url);
    const db = createDb(database.url, { max: 2 });
    try {
      return await fn(db);
    } finally {
      await db.$disconnect();
    }
  } finally {
    await database.stop();
  }
}
