import type PgBoss from "pg-boss";
import type { Logger } from "pino";
import type { Db } from "../db/client";
import type { WebhookEvent } from "../generated/prisma/client";
import { asAppError } from "../errors";
import { QUEUES, type JobQueue, type WorkOptions } from "../jobs/queue";
import { rateLimitWait } from "../jobs/rate-limited";
import { mapLimit } from "../util/concurrency";

/** What a handler did: shown to operators as the delivery's outcome. */
export interface HandlerResult {
  status: "processed" | "ignored";
  outcome: string;
}

/** A webhook handler: one per event type (lifecycle and appointment handlers, wired in src/services.ts). */
export type WebhookHandler = (event: WebhookEvent) => Promise<HandlerResult>;

/**
 * Settles at once, for a whole batch, the deliveries that need no work of their own (e.g.
 * appointments no rule watches); the rest go to their handlers one by one.
 */
export type BatchSettler = (events: WebhookEvent[]) => Promise<Map<string, HandlerResult>>;

/** Thrown by a handler whose event cannot be done yet (e.g. INSTALL before the code exchange ended). */
export class RetryLater extends Error {}

/** A delivery's handler has run: what to write on its row. `since`: when its event happened (for its lag). */
type Finished = HandlerResult & { id: string; type: string; attempts: number | null; since: Date };

/** What became of one attempt at a delivery, for metrics: `deferred` waits for HighLevel's rate limit. */
export type DeliveryOutcome = "processed" | "ignored" | "failed" | "retry" | "deferred";

/**
 * Told of each attempt; `type` is a type some handler works, or `other` (the sender chooses types).
 * `lagSeconds`, once a delivery is done: from its event to now (see `eventTime`).
 */
export type DeliveryObserver = (type: string, outcome: DeliveryOutcome, lagSeconds?: number) => void;

/**
 * When the event happened: HighLevel's timestamp when the delivery carries one (the inbox refused
 * it if it was more than minutes off), else when it was received.
 */
export function eventTime(event: Pick<WebhookEvent, "payload" | "receivedAt">): Date {
  const stamp = (event.payload as { timestamp?: unknown } | null)?.timestamp;
  const at = typeof stamp === "number" ? stamp : typeof stamp === "string" ? Date.parse(stamp) : NaN;
  return Number.isFinite(at) ? new Date(at) : event.receivedAt;
}

/** Deliveries of a batch worked at once; below the database pool's size (10). */
const APPLY_CONCURRENCY = 6;

/** Attempts before a delivery that keeps failing is given up, with its last reason. */
const MAX_ATTEMPTS = 10;

/** Works the webhook inbox from the queue: each stored delivery once, by its type's handler. */
export class WebhookProcessor {
  /**
   * A Map, not the object itself: `type` is the sender's to choose, and on a plain object
   * `constructor` or `toString` would find Object.prototype's functions and call them as handlers.
   */
  private readonly handlers: ReadonlyMap<string, WebhookHandler>;

  constructor(
    private readonly db: Db,
    private readonly queue: JobQueue,
    handlers: Record<string, WebhookHandler>,
    private readonly log: Logger,
    private readonly settlers: BatchSettler[] = [],
    private readonly onDelivery: DeliveryObserver = () => {},
  ) {
    this.handlers = new Map(Object.entries(handlers));
  }

  private observe(type: string, outcome: DeliveryOutcome, lagSeconds?: number): void {
    this.onDelivery(this.handlers.has(type) ? type : "other", outcome, lagSeconds);
  }

  start(options: WorkOptions): Promise<void> {
    return this.queue.work<{ id: string }>(QUEUES.webhook, options, (jobs) => this.handle(jobs));
  }

  private async handle(jobs: PgBoss.Job<{ id: string }>[]): Promise<void> {
    // One read and one write for the whole batch rather than one of each per delivery.
    const events = await this.db.webhookEvent.findMany({ where: { id: { in: jobs.map((j) => j.data.id) } } });
    const byId = new Map(events.map((e) => [e.id, e]));
    const settled = await this.settle(events.filter((e) => e.status === "received"));
    const finished: Finished[] = [];
    // A few at a time: the database pool is shared with the webhook intake in this process, and a
    // hundred queued queries would make every acknowledgement wait behind them.
    await mapLimit(jobs, APPLY_CONCURRENCY, async (job) => {
      const event = byId.get(job.data.id);
      const result = event && settled.get(event.id);
      if (event && result) {
        finished.push({
          id: event.id,
          type: event.type,
          ...result,
          attempts: event.attempts + 1,
          since: eventTime(event),
        });
        return;
      }
      try {
        const done = await this.apply(event);
        if (done) finished.push(done);
      } catch (err) {
        const wait = rateLimitWait(err);
        // A rate limit: the delivery comes back when the budget does, as a new entry (no attempt spent).
        if (wait) await this.queue.send(QUEUES.webhook, { id: job.data.id }, { startAfter: wait.resumesAt });
        else await this.queue.fail(QUEUES.webhook, job.id, err instanceof Error ? err.message : String(err));
      }
    });
    // Should this fail, the batch is worked again: handlers see their delivery was already applied.
    await this.finish(finished);
  }

  private async settle(events: WebhookEvent[]): Promise<Map<string, HandlerResult>> {
    const settled = new Map<string, HandlerResult>();
    for (const settler of this.settlers) {
      const open = events.filter((e) => !settled.has(e.id));
      if (open.length === 0) break;
      for (const [id, result] of await settler(open)) settled.set(id, result);
    }
    return settled;
  }

  /** Throws when the delivery should be tried again later. */
  async process(id: string): Promise<void> {
    const done = await this.apply(await this.db.webhookEvent.findUnique({ where: { id } }));
    if (done) await this.finish([done]);
  }

  /** Runs the delivery's handler; what it did is returned for `finish` to write. */
  private async apply(event: WebhookEvent | null | undefined): Promise<Finished | undefined> {
    if (!event || event.status !== "received") return undefined;
    const id = event.id;
    const since = eventTime(event);
    const handler = this.handlers.get(event.type);
    if (!handler) {
      return {
        id,
        type: event.type,
        status: "ignored",
        outcome: `No handler for ${event.type} events.`,
        attempts: null,
        since,
      };
    }
    const attempts = event.attempts + 1;
    try {
      return { id, type: event.type, ...(await handler(event)), attempts, since };
    } catch (err) {
      const wait = rateLimitWait(err);
      if (wait) {
        // Not a failure (src/jobs/rate-limited.ts): no attempt is counted, the operator reads why it waits.
        await this.db.webhookEvent.update({ where: { id }, data: { outcome: `Will retry, ${wait.detail}` } });
        this.observe(event.type, "deferred");
        throw err;
      }
      const error = err instanceof RetryLater ? undefined : asAppError(err);
      const retry = (!error || error.retryable) && attempts < MAX_ATTEMPTS;
      const reason = error ? error.message : (err as Error).message;
      // A bug fails the delivery once, loudly; HighLevel or the database failing is worth a warning.
      if (error?.code === "internal_error") this.log.error({ err, webhook: id }, "webhook failed: a bug");
      else if (error?.retryable) this.log.warn({ err, webhook: id }, "webhook failed; will retry");
      await this.db.webhookEvent.update({
        where: { id },
        data: retry
          ? { attempts, outcome: `Will retry: ${reason}` }
          : { attempts, status: "failed", outcome: reason, processedAt: new Date() },
      });
      if (retry) this.observe(event.type, "retry");
      else this.observe(event.type, "failed", Math.max(0, Date.now() - since.getTime()) / 1000);
      if (retry) throw err;
      return undefined;
    }
  }

  private async finish(done: Finished[]): Promise<void> {
    if (done.length === 0) return;
    await this.db.$executeRaw`
      UPDATE webhook_events AS w
         SET status = u.status::"WebhookStatus", outcome = u.outcome, processed_at = now(),
             attempts = COALESCE(u.attempts, w.attempts)
        FROM unnest(${done.map((d) => d.id)}::text[], ${done.map((d) => d.status)}::text[],
                    ${done.map((d) => d.outcome)}::text[], ${done.map((d) => d.attempts)}::int[])
          AS u(id, status, outcome, attempts)
       WHERE w.id = u.id`;
    const now = Date.now();
    // Never below zero: HighLevel's clock may run a little ahead of ours.
    for (const d of done) this.observe(d.type, d.status, Math.max(0, now - d.since.getTime()) / 1000);
  }
}
