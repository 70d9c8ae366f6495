import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { createApp } from "./app";
import { createHttpServer } from "./http/server";
import type { Config } from "./config";
import { createDb } from "./db/client";
import { openDatabase } from "./db/database";
import { applyMigrations } from "./db/migrate";
import { createServices, type Services } from "./services";

export interface RunningApp {
  url: string;
  services: Services;
  stop(): Promise<void>;
}

/** How long in-flight requests get to finish on shutdown before connections are cut. */
const DRAIN_MS = 10_000;

/** Database (embedded unless DATABASE_URL), pending migrations, services, HTTP: the whole process. */
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

  const server: Server = await new Promise((resolve, reject) => {
    const s = createHttpServer(app);
    s.once("error", reject);
    s.listen(config.PORT, () => resolve(s));
  });
  services.refresher.start();
  services.housekeeping.start();
  const port = (server.address() as AddressInfo).port;
  // PORT=0 (tests, benchmarks) means "any free port": the configured base URL cannot know it.
  const url = config.PORT === 0 ? `http://127.0.0.1:${port}` : config.APP_BASE_URL;

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
      await closed;
      clearTimeout(timer);
      await services.refresher.stop();
      await services.close();
      await db.$disconnect();
      await database.stop();
    })());
  return { url, services, stop };
}
