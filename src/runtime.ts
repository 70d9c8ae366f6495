import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { createApp } from "./app";
import { createHttpServer, type AppServer } from "./http/server";
import type { Config } from "./config";
import { createDb, warmUp } from "./db/client";
import { openDatabase } from "./db/database";
import { applyMigrations } from "./db/migrate";
import { createServices, type Services } from "./services";
import { within } from "./util/bounded";

export interface RunningApp {
  url: string;
  services: Services;
  /** Drains and closes everything (see `startRuntime`); the same promise however often it is called. */
  stop(): Promise<void>;
}

/** How long requests under way, and jobs under way, get to finish on shutdown (side by side). */
const DRAIN_MS = 10_000;
/** Any other stop step (closing pools, stopping the embedded server) that overruns this is left. */
const STEP_MS = 5_000;
/** Once the database has gone, what still waits on it gets this long, then is left. */
const GONE_GRACE_MS = 300;

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
  await warmUp(db);
  await services.tokenKeys.report(log);
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
  if (services.metrics.enabled) {
    services.buckets.start();
    services.queueSampler.start();
  }
  const { address, port } = server.address() as AddressInfo;
  // PORT=0 (tests, benchmarks) means "any free port": the configured base URL cannot know it.
  const host =
    address === "0.0.0.0" || address === "::" ? "127.0.0.1" : address.includes(":") ? `[${address}]` : address;
  const url = config.PORT === 0 ? `http://${host}:${port}` : config.APP_BASE_URL;

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info("draining: requests and jobs under way may finish");
      // A terminal's Ctrl-C reaches the embedded server too, which then stops first: pools,
      // pg-boss and Prisma wait on a server that will never answer. Every step is bounded, and
      // once the database is gone a step still waiting is left after a short grace.
      let goneFirst = false;
      void database.gone.then(() => (goneFirst = true));
      const abandon = database.gone.then(() => sleep(GONE_GRACE_MS));
      const failures: unknown[] = [];
      const step = async (name: string, work: () => Promise<unknown>, ms = STEP_MS) => {
        const outcome = await within(work(), ms, abandon);
        if (outcome.kind === "failed") failures.push(outcome.err);
        else if (outcome.kind === "cut" && outcome.why === "time")
          log.warn({ step: name, ms }, "shutdown step did not finish in time: going on without it");
        else if (outcome.kind === "cut") log.info({ step: name }, "database already gone: not waiting for this step");
      };
      // Side by side: a request under way only adds queue entries in its own transaction; it
      // never waits for a worker of this process.
      await Promise.all([
        step("http", () => server.drain(DRAIN_MS), DRAIN_MS + STEP_MS),
        step("jobs", () => services.stopJobs(), DRAIN_MS + STEP_MS),
        step("refresher", () => services.refresher.stop()),
        step("housekeeping", () => services.housekeeping.stop()),
        step("queue sampler", () => services.queueSampler.stop()),
        // Early: a database that stops first would otherwise be reported as lost, mid-stop.
        step("change notifications", () => services.changes.stop()),
      ]);
      // Once nothing more is counted, and while Prisma is still connected: the dashboard's last counts.
      await step("dashboard counts", () => services.buckets.stop());
      await Promise.all([step("services", () => services.close()), step("prisma", () => db.$disconnect())]);
      const wentFirst = goneFirst;
      await step("database", () => database.stop());
      // Errors of clients whose server went away are the expected end of a stop, not a failure.
      if (failures.length > 0 && wentFirst) log.info({ err: failures[0] }, "database already gone while stopping");
      else if (failures.length > 0) throw failures[0];
    })());
  return { url, services, stop };
}
