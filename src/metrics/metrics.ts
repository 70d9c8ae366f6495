import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Logger } from "pino";
import type { Db } from "../db/client";

/** The label for a request no route matched: raw paths would make a series per scanner probe. */
export const UNMATCHED_ROUTE = "unmatched";

/**
 * The fixed names of the calls to HighLevel, by the name the client gives each endpoint. A name
 * not listed is turned into camelCase: it is still a literal in src/highlevel/, never a value.
 */
const OPERATIONS: Record<string, string> = {
  "create block slot": "createBlockSlot",
  "edit block slot": "editBlockSlot",
  "delete event": "deleteEvent",
  "list calendars": "listCalendars",
  "get event": "getEvent",
  "list events": "listEvents",
  "list blocked slots": "listBlockedSlots",
  "get location": "getLocation",
  "code exchange": "exchangeCode",
  "token refresh": "refreshToken",
  "location token": "mintLocationToken",
  "installed locations": "listInstalledLocations",
};

export function operationLabel(operation: string): string {
  return (
    OPERATIONS[operation] ??
    operation
      .toLowerCase()
      .replace(/[^a-z0-9]+(.)/g, (_m, c: string) => c.toUpperCase())
      .replace(/[^A-Za-z0-9]/g, "")
  );
}

interface QueueRow {
  name: string;
  state: string;
  count: number;
  oldest: number | null;
}

/** Seconds, for calls that take from a few milliseconds (the API) to tens of seconds (a slow HighLevel). */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The app's Prometheus series, in a registry of its own: tests build several apps in one
 * process, and prom-client's global registry would refuse the second set of names. No label
 * carries an id (of a location, company, key or user): every label has a fixed set of values.
 */
export class AppMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: "http_requests_total",
    help: "Requests answered, by method, route pattern and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "Time to answer a request, by method and route pattern.",
    labelNames: ["method", "route"] as const,
    buckets: BUCKETS,
    registers: [this.registry],
  });
  readonly highLevelRequests = new Counter({
    name: "highlevel_requests_total",
    help: "Calls to HighLevel, by operation and HTTP status (`error`: no answer came).",
    labelNames: ["operation", "status"] as const,
    registers: [this.registry],
  });
  readonly highLevelDuration = new Histogram({
    name: "highlevel_request_duration_seconds",
    help: "Time HighLevel took to answer, by operation.",
    labelNames: ["operation"] as const,
    buckets: BUCKETS,
    registers: [this.registry],
  });
  readonly rateLimitWaits = new Counter({
    name: "highlevel_rate_limit_waits_total",
    help: "Calls to HighLevel that had to wait for the shared rate limit before going out.",
    registers: [this.registry],
  });
  readonly tooManyRequests = new Counter({
    name: "highlevel_429_total",
    help: "Answers 429 (Too Many Requests) from HighLevel.",
    registers: [this.registry],
  });
  readonly tokenRefreshes = new Counter({
    name: "token_refreshes_total",
    help: "Token renewals asked of HighLevel, by owner (location or company) and outcome.",
    labelNames: ["owner", "outcome"] as const,
    registers: [this.registry],
  });
  readonly webhookDeliveries = new Counter({
    name: "webhook_deliveries_total",
    help: "Webhook deliveries worked, by event type and outcome.",
    labelNames: ["type", "outcome"] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Series read from PostgreSQL at each scrape: installations by status, the queue's depth and age. */
  collectFrom(db: Db, log: Logger): void {
    new Gauge({
      name: "installations",
      help: "Installed locations, by status (read from the database at each scrape).",
      labelNames: ["status"] as const,
      registers: [this.registry],
      async collect() {
        const rows = await db.location.groupBy({ by: ["status"], _count: { _all: true } });
        this.reset();
        for (const row of rows) this.set({ status: row.status }, row._count._all);
      },
    });
    // Both queue gauges are filled from one query; a scrape collects them at the same time.
    let reading: Promise<QueueRow[]> | undefined;
    const readQueue = () =>
      (reading ??= db.$queryRaw<QueueRow[]>`
        SELECT name, state::text AS state, count(*)::int AS count,
               extract(epoch FROM now() - min(created_on))::float8 AS oldest
          FROM pgboss.job GROUP BY name, state`
        .catch((err: unknown) => {
          // Before the queue made its schema (a first start) there is nothing to count.
          log.warn({ err }, "queue metrics not read");
          return [];
        })
        .finally(() => (reading = undefined)));
    new Gauge({
      name: "queue_jobs",
      help: "Entries in the job queue, by queue and state (read from the database at each scrape).",
      labelNames: ["queue", "state"] as const,
      registers: [this.registry],
      async collect() {
        const rows = await readQueue();
        this.reset();
        for (const row of rows) this.set({ queue: row.name, state: row.state }, row.count);
      },
    });
    new Gauge({
      name: "queue_oldest_job_age_seconds",
      help: "Age of the oldest entry waiting to be worked (created or retry), by queue.",
      labelNames: ["queue"] as const,
      registers: [this.registry],
      async collect() {
        const rows = await readQueue();
        const oldest = new Map<string, number>();
        for (const row of rows) {
          if ((row.state !== "created" && row.state !== "retry") || row.oldest === null) continue;
          oldest.set(row.name, Math.max(oldest.get(row.name) ?? 0, row.oldest));
        }
        this.reset();
        for (const [queue, age] of oldest) this.set({ queue }, age);
      },
    });
  }

  /** The `send()` hook of src/highlevel/http.ts. */
  highLevelAnswered(operation: string, status: number | "error", seconds: number): void {
    const op = operationLabel(operation);
    this.highLevelRequests.inc({ operation: op, status: String(status) });
    this.highLevelDuration.observe({ operation: op }, seconds);
    if (status === 429) this.tooManyRequests.inc();
  }
}
