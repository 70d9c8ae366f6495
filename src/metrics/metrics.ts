import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Logger } from "pino";
import type { Db } from "../db/client";
import type { BucketRecorder } from "./buckets";
import { readQueue, waiting, type QueueRow } from "./queue";

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

/** Seconds, for calls that take from a few milliseconds (the API) to tens of seconds (a slow HighLevel). */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Seconds from an event to its delivery's processing: from well under a second to a backlog of an hour. */
const LAG_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** An answer of HighLevel, as the dashboard groups them: `ok` below 400, `4xx`, `429`, `5xx`, `error` (no answer). */
export function statusClass(status: number | "error"): string {
  if (status === "error") return "error";
  if (status === 429) return "429";
  if (status >= 500) return "5xx";
  return status >= 400 ? "4xx" : "ok";
}

/**
 * The app's Prometheus series, in a registry of its own: tests build several apps in one
 * process, and prom-client's global registry would refuse the second set of names. No label
 * carries an id (of a location, company, key or user): every label has a fixed set of values.
 *
 * The methods below are where the app's events are counted: each moves its /metrics series and,
 * once `recordTo` gave it one, the dashboard's buckets in PostgreSQL (src/metrics/buckets.ts), so
 * both tell the same story. `enabled: false` (METRICS=off) counts nothing at all.
 */
export class AppMetrics {
  readonly registry = new Registry();
  readonly enabled: boolean;
  private buckets: BucketRecorder | undefined;
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

  readonly webhookLag = new Histogram({
    name: "webhook_delivery_lag_seconds",
    help: "Time from a webhook's event (HighLevel's timestamp, else its receipt) to its processing.",
    buckets: LAG_BUCKETS,
    registers: [this.registry],
  });
  readonly blocksCreated = new Counter({
    name: "blocks_created_total",
    help: "Block slots created in HighLevel, by what made them (api, page, bulk, trigger, rule, plan).",
    labelNames: ["origin"] as const,
    registers: [this.registry],
  });

  constructor(options: { enabled?: boolean } = {}) {
    this.enabled = options.enabled ?? true;
    if (this.enabled) collectDefaultMetrics({ register: this.registry });
  }

  /** From now on, events are also added to the dashboard's buckets. */
  recordTo(buckets: BucketRecorder): void {
    if (this.enabled) this.buckets = buckets;
  }

  /** Series read from PostgreSQL at each scrape: installations by status, the queue's depth and age. */
  collectFrom(db: Db, log: Logger): void {
    if (!this.enabled) return;
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
    const read = () => (reading ??= readQueue(db, log).finally(() => (reading = undefined)));
    new Gauge({
      name: "queue_jobs",
      help: "Entries in the job queue, by queue and state (read from the database at each scrape).",
      labelNames: ["queue", "state"] as const,
      registers: [this.registry],
      async collect() {
        const rows = await read();
        this.reset();
        for (const row of rows) this.set({ queue: row.name, state: row.state }, row.count);
      },
    });
    new Gauge({
      name: "queue_oldest_job_age_seconds",
      help: "Seconds the longest-waiting entry that is due (new or retry, its start time passed) has waited, by queue.",
      labelNames: ["queue"] as const,
      registers: [this.registry],
      async collect() {
        const byQueue = waiting(await read());
        this.reset();
        for (const [queue, q] of byQueue) this.set({ queue }, q.oldest);
      },
    });
  }

  /** The `send()` hook of src/highlevel/http.ts. */
  highLevelAnswered(operation: string, status: number | "error", seconds: number): void {
    if (!this.enabled) return;
    const op = operationLabel(operation);
    this.highLevelRequests.inc({ operation: op, status: String(status) });
    this.highLevelDuration.observe({ operation: op }, seconds);
    if (status === 429) this.tooManyRequests.inc();
    this.buckets?.count("highlevel_requests", statusClass(status));
  }

  /** The shared rate limit made a call wait. */
  rateLimitWaited(): void {
    if (this.enabled) this.rateLimitWaits.inc();
  }

  /** A token renewal asked of HighLevel ended (src/tokens/service.ts). */
  tokenRenewed(owner: string, outcome: string): void {
    if (!this.enabled) return;
    this.tokenRefreshes.inc({ owner, outcome });
    this.buckets?.count("token_refreshes", outcome);
  }

  /** An attempt at a webhook delivery ended (src/webhooks/processor.ts); `lagSeconds` once it is done. */
  webhookWorked(type: string, outcome: string, lagSeconds?: number): void {
    if (!this.enabled) return;
    this.webhookDeliveries.inc({ type, outcome });
    this.buckets?.count("webhook_deliveries", outcome);
    if (lagSeconds === undefined) return;
    this.webhookLag.observe(lagSeconds);
    this.buckets?.observe("webhook_lag_seconds", "", lagSeconds);
  }

  /** HighLevel confirmed a new block slot (src/block-slots/service.ts). */
  blockCreated(origin: string): void {
    if (!this.enabled) return;
    this.blocksCreated.inc({ origin });
    this.buckets?.count("blocks_created", origin);
  }
}
