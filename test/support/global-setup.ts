import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startEmbeddedPostgres } from "../../src/db/embedded";
import { applyMigrations } from "../../src/db/migrate";
import { JobQueue } from "../../src/jobs/queue";
import { createLogger } from "../../src/logger";
import { ADMIN_URL_ENV, TEMPLATE_DB, databaseUrl, withAdmin } from "./postgres";

/**
 * One real PostgreSQL for the whole run: DATABASE_URL's server when given, otherwise an
 * embedded one in a temporary directory. Migrations are applied once, to a template database
 * that each test file copies.
 */
export default async function globalSetup(): Promise<void> {
  // Already prepared by whoever started this run (`npm run mutate` starts one server and template
  // for its many jest runs, which would otherwise each start a server and race on the template).
  if (process.env[ADMIN_URL_ENV]) return;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "app-test-pg-"));
    fs.chmodSync(dataDir, 0o777);
    const server = await startEmbeddedPostgres({ dataDir: path.join(dataDir, "data"), persistent: false });
    adminUrl = server.adminUrl;
    (globalThis as Record<string, unknown>).__testPostgres = { stop: server.stop, dataDir };
  }
  process.env[ADMIN_URL_ENV] = adminUrl;
  await withAdmin(adminUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  });
  const templateUrl = databaseUrl(adminUrl, TEMPLATE_DB);
  await applyMigrations(templateUrl);
  // The queue's own tables and queues, once, so each test database starts with them.
  const queue = new JobQueue(templateUrl, createLogger("warn"), { timeoutSeconds: 120 });
  await queue.start();
  await queue.stop();
}
