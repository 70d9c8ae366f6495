import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { createApp } from "./app";
import { createHttpServer, type AppServer } from "./http/server";
import type { Config } from "./config";
import { createDb } from "./db/client";
import { openDatabase } from "./db/database";
import { applyMigrations } from "./db/migrate";
import { createServices, type Services } from "./services";

export interface RunningApp {
  url: string;
  services: Services;
  /** Drains and closes everything (see `startRuntime`); the same promise however often it is called. */
  stop(): Promise<void>;
}

/** How long requests under way, and jobs under way, get to finish on shutdown (side by side). */
const DRAIN_MS = 10_000;

/**
 * Database (embedded unless DATABASE_URL), pending migrations, services, HTTP: the whole process.
 *
 * `stop()` ends it in order: no new connections and no new jobs fetched; requests and jobs under
 * way finish (up to DRAIN_MS, then they are cut and a cut job is retried by another process);
 * the timers stop; then the pools close and, last, the embedded database if there is one.
 */
export async function startRuntime(config: Config, log: Logger): Promise<RunningApp> {
  const database = await openDatabase(config.DATABASE_URL, log);
  try {
    await applyMigrations(database.url);
  } catch (err) {
    await database.stop();
    throw err;
  }
  const db = createDb(database.url);
  const services = createServices(config, db, log, database.url);
  const app = createApp(services);
  await services.changes.start();
  // Before listening: a bulk submit writes to the queue's tables, which the queue creates on start.
  await services.startJobs();

  const server: AppServer = await new Promise((resolve, reject) => {
    const s = createHttpServer(app);
    s.once("error", reject);
    s.listen(config.PORT, config.HOST, () => resolve(s));
  });
  services.refresher.start();
  services.housekeeping.start();
  const { address, port } = server.address() as AddressInfo;
  // PORT=0 (tests, benchmarks) means "any free port": the configured base URL cannot know it.
  const host =
    address === "0.0.0.0" || address === "::" ? "127.0.0.1" : address.includes(":") ? `[${address}]` : address;
  const url = config.PORT === 0 ? `http://${host}:${port}` : config.APP_BASE_URL;

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info("draining: requests and jobs under way may finish");
      // Side by side: a request under way only adds queue entries in its own transaction; it
      // never waits for a worker of this process.
      const drained = await Promise.allSettled([
        server.drain(DRAIN_MS),
        services.stopJobs(),
        services.refresher.stop(),
        services.housekeeping.stop(),
      ]);
      const closed = await Promise.allSettled([services.close(), db.$disconnect()]);
      await database.stop();
      const failed = [...drained, ...closed].find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
    })());
  return { url, services, stop };
}
