import crypto from "node:crypto";
import type { Db } from "../db/client";
import type { Prisma } from "../generated/prisma/client";
import { ProblemError } from "../http/problem";
import { QUEUES, type JobQueue } from "../jobs/queue";
import { checkTimestamp, verifyWebhookSignature, type WebhookKeys } from "./signature";

/** Install and uninstall deliveries always carry a timestamp (FACTS.md); one without is refused. */
const NEEDS_TIMESTAMP = new Set(["INSTALL", "UNINSTALL"]);

export interface Receipt {
  id: string;
  status: "accepted" | "duplicate";
}

const str = (v: unknown) => (typeof v === "string" && v ? v : null);

/**
 * `POST /webhooks/highlevel`: trust only what HighLevel signed, store it with its queue entry in
 * one transaction, and answer. The work happens later, from the queue, in any process.
 */
export class WebhookInbox {
  constructor(
    private readonly db: Db,
    private readonly queue: JobQueue,
    private readonly keys: WebhookKeys,
  ) {}

  async receive(raw: Buffer, headers: Record<string, string | string[] | undefined>): Promise<Receipt> {
    const signature = verifyWebhookSignature(raw, headers, this.keys);
    if (!signature.ok) throw new ProblemError(401, "invalid_signature", signature.reason);

    let payload: Record<string, unknown>;
    try {
      // PostgreSQL's jsonb cannot hold U+0000: drop it (the signature was checked on the bytes as sent).
      payload = JSON.parse(raw.toString("utf8"), (_k, v: unknown) =>
        typeof v === "string" ? v.replaceAll("\u0000", "") : v,
      ) as Record<string, unknown>;
    } catch {
      throw new ProblemError(400, "invalid_request", "The webhook body is not JSON.");
    }
    const type = payload && typeof payload === "object" ? str(payload.type) : null;
    if (!type) {
      throw new ProblemError(400, "invalid_request", "The webhook has no `type`.", {
        errors: [{ path: "type", message: "is required" }],
      });
    }
    if (payload.timestamp !== undefined || NEEDS_TIMESTAMP.has(type)) {
      const fresh = checkTimestamp(payload.timestamp);
      if (!fresh.ok) throw new ProblemError(401, "stale_webhook", fresh.reason);
    }

    // A delivery without webhookId is known by its exact bytes, so a replay of it still has no effect.
    const id = str(payload.webhookId) ?? `sha256:${crypto.createHash("sha256").update(raw).digest("hex")}`;
    const inserted = await this.db.$transaction(async (tx) => {
      const { count } = await tx.webhookEvent.createMany({
        data: [
          {
            id,
            type,
            locationId: str(payload.locationId),
            companyId: str(payload.companyId),
            payload: payload as Prisma.InputJsonObject,
          },
        ],
        skipDuplicates: true,
      });
      if (count > 0) await this.queue.insertWithin(tx, QUEUES.webhook, [{ data: { id } }]);
      return count > 0;
    });
    return { id, status: inserted ? "accepted" : "duplicate" };
  }
}
