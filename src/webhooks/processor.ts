import type PgBoss from "pg-boss";
import type { Logger } from "pino";
import type { Db } from "../db/client";
import type { WebhookEvent } from "../generated/prisma/client";
import { isTransient, toProblem } from "../http/errors";
import { QUEUES, type JobQueue, type WorkOptions } from "../jobs/queue";

/** What a handler did: shown to operators as the delivery's outcome. */
export interface HandlerResult {
  status: "processed" | "ignored";
  outcome: string;
}

/** A webhook handler: one per event type, registered in src/webhooks/handlers.ts. */
export type WebhookHandler = (event: WebhookEvent) => Promise<HandlerResult>;

/** Thrown by a handler whose event cannot be done yet (e.g. INSTALL before the code exchange ended). */
export class RetryLater extends Error {}

/** Attempts before a delivery that keeps failing is given up, with its last reason. */
const MAX_ATTEMPTS = 10;

/** Works the webhook inbox from the queue: each stored delivery once, by its type's handler. */
export class WebhookProcessor {
  constructor(
    private readonly db: Db,
    private readonly queue: JobQueue,
    private readonly handlers: Record<string, WebhookHandler>,
    private readonly log: Logger,
  ) {}

  start(options: WorkOptions): Promise<void> {
    return this.queue.work<{ id: string }>(QUEUES.webhook, options, (jobs) => this.handle(jobs));
  }

  private async handle(jobs: PgBoss.Job<{ id: string }>[]): Promise<void> {
    await Promise.all(
      jobs.map(async (job) => {
        try {
          await this.process(job.data.id);
        } catch (err) {
          await this.queue.fail(QUEUES.webhook, job.id, err instanceof Error ? err.message : String(err));
        }
      }),
    );
  }

  /** Throws when the delivery should be tried again later. */
  async process(id: string): Promise<void> {
    const event = await this.db.webhookEvent.findUnique({ where: { id } });
    if (!event || event.status !== "received") return;
    const handler = this.handlers[event.type];
    if (!handler) {
      await this.finish(id, { status: "ignored", outcome: `No handler for ${event.type} events.` });
      return;
    }
    const attempts = event.attempts + 1;
    try {
      await this.finish(id, await handler(event), attempts);
    } catch (err) {
      const problem = toProblem(err);
      const retry = (err instanceof RetryLater || isTransient(problem)) && attempts < MAX_ATTEMPTS;
      const reason = err instanceof RetryLater ? err.message : problem.detail;
      if (problem.status >= 500 && !(err instanceof RetryLater)) this.log.warn({ err, webhook: id }, "webhook failed");
      await this.db.webhookEvent.update({
        where: { id },
        data: retry
          ? { attempts, outcome: `Will retry: ${reason}` }
          : { attempts, status: "failed", outcome: reason, processedAt: new Date() },
      });
      if (retry) throw err;
    }
  }

  private async finish(id: string, result: HandlerResult, attempts?: number): Promise<void> {
    await this.db.webhookEvent.update({
      where: { id },
      data: {
        status: result.status,
        outcome: result.outcome,
        processedAt: new Date(),
        ...(attempts ? { attempts } : {}),
      },
    });
  }
}
