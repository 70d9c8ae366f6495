import crypto from "node:crypto";
import type { Logger } from "pino";
import type { Db } from "../db/client";
import { AppError, databaseUnavailable } from "../errors";
import { QUEUES, type JobQueue } from "../jobs/queue";
import { GroupCommit } from "../util/concurrency";
import { envelope, LOCATION_EVENTS, readPayload } from "./payloads";
import { checkTimestamp, verifyWebhookSignature, type WebhookKeys } from "./signature";

/** What a delivery that could not be stored asks for; HighLevel's own retries come about 10 minutes apart. */
const RESEND_AFTER_SECONDS = 60;

/** Install and uninstall deliveries always carry a timestamp (docs/highlevel.md, "Webhooks"); one without is refused. */
const NEEDS_TIMESTAMP = new Set(["INSTALL", "UNINSTALL"]);

export interface Receipt {
  id: string;
  status: "accepted" | "duplicate";
}

/** PostgreSQL's jsonb holds neither U+0000 nor half a surrogate pair; both are replaced in strings. */
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const storable = (_key: string, v: unknown) =>
  typeof v === "string" ? v.replace(UNSTORABLE, (c) => (c === "\u0000" ? "" : "\ufffd")) : v;
/** Raw bytes that are valid UTF-8 decode to neither; only JSON's \u escapes can make them. */
const MAY_BE_UNSTORABLE = /\\u(?:0000|d[89a-f])/i;
/**
 * The payload, and the JSON text to store: the body as sent when it needs no change. A reviver
 * costs a call per value, so only bodies that may need one get it.
 */
function parseStorable(text: string): { payload: Record<string, unknown>; json: string } {
  if (!MAY_BE_UNSTORABLE.test(text)) return { payload: JSON.parse(text) as Record<string, unknown>, json: text };
  const payload = JSON.parse(text, storable) as Record<string, unknown>;
  return { payload, json: JSON.stringify(payload) };
}

interface Delivery {
  id: string;
  type: string;
  locationId: string | null;
  companyId: string | null;
  /** The payload as JSON text, fit for jsonb. */
  json: string;
}

/**
 * `POST /webhooks/highlevel`: trust only what HighLevel signed, store it with its queue entry in
 * one transaction, and answer. The work happens later, from the queue, in any process.
 * Deliveries arriving together share one transaction (group commit): a commit waits for the disk,
 * and one per delivery capped intake at a few hundred a second.
 */
export class WebhookInbox {
  private readonly commits: GroupCommit<Delivery, boolean>;

  constructor(
    private readonly db: Db,
    private readonly queue: JobQueue,
    private readonly keys: WebhookKeys,
    private readonly log: Pick<Logger, "warn">,
  ) {
    this.commits = new GroupCommit((batch) => this.store(batch), {
      maxBatch: 500,
      split: (err) => !databaseUnavailable(err),
    });
  }

  async receive(raw: Buffer, headers: Record<string, string | string[] | undefined>): Promise<Receipt> {
    const signature = verifyWebhookSignature(raw, headers, this.keys);
    if (!signature.ok) throw new AppError("invalid_signature", signature.reason);
    if (signature.ed25519Mismatch) this.warnKeyMismatch();

    let payload: Record<string, unknown>;
    let json: string;
    try {
      // The signature was checked on the bytes as sent; what is stored must fit jsonb.
      ({ payload, json } = parseStorable(raw.toString("utf8")));
    } catch {
      throw new AppError("invalid_request", "The webhook body is not JSON.");
    }
    const fields = readPayload(envelope, payload);
    const type = fields.type;
    if (!type) {
      throw new AppError("invalid_request", "The webhook has no `type`.", {
        errors: [{ path: "type", message: "is required" }],
      });
    }
    if (fields.timestamp !== undefined || NEEDS_TIMESTAMP.has(type)) {
      const fresh = checkTimestamp(fields.timestamp);
      if (!fresh.ok) throw new AppError("stale_webhook", fresh.reason);
    }

    // A delivery without webhookId is known by its exact bytes, so a replay of it still has no effect.
    const id = fields.webhookId ?? `sha256:${crypto.createHash("sha256").update(raw).digest("hex")}`;
    // A location event is about the location its `id` names: kept as the delivery's location, so
    // the console can name it beside the outcome.
    const locationId = fields.locationId ?? (LOCATION_EVENTS.has(type) ? fields.id : undefined) ?? null;
    const companyId = fields.companyId ?? null;
    const accepted = await this.commits.add({ id, type, locationId, companyId, json }).catch((err: unknown) => {
      // HighLevel resends a delivery only when it is answered 429; a 503 (or 500) would lose it.
      throw new AppError("webhook_not_stored", "The delivery could not be stored right now; send it again.", {
        retryable: true,
        retryAfterSeconds: RESEND_AFTER_SECONDS,
        cause: err,
      });
    });
    return { id, status: accepted ? "accepted" : "duplicate" };
  }

  private lastMismatchWarning = 0;
  /** At most once a minute: every delivery would carry the same news. */
  private warnKeyMismatch(): void {
    if (Date.now() - this.lastMismatchWarning < 60_000) return;
    this.lastMismatchWarning = Date.now();
    this.log.warn(
      "a webhook's x-ghl-signature did not match HIGHLEVEL_WEBHOOK_ED25519_PUBLIC_KEY; accepted on its x-wh-signature (RSA). Check the Ed25519 key.",
    );
  }

  /** One transaction for a batch: the new deliveries and their queue entries. True for each one stored now. */
  private store(batch: Delivery[]): Promise<boolean[]> {
    return this.db.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<{ id: string }[]>`
        INSERT INTO webhook_events (id, type, location_id, company_id, payload)
        SELECT id, type, location_id, company_id, payload::jsonb
          FROM unnest(${batch.map((d) => d.id)}::text[], ${batch.map((d) => d.type)}::text[],
                      ${batch.map((d) => d.locationId)}::text[], ${batch.map((d) => d.companyId)}::text[],
                      ${batch.map((d) => d.json)}::text[])
            AS d(id, type, location_id, company_id, payload)
        ON CONFLICT (id) DO NOTHING
        RETURNING id`;
      const fresh = new Set(rows.map((r) => r.id));
      await this.queue.insertWithin(
        tx,
        QUEUES.webhook,
        [...fresh].map((id) => ({ data: { id } })),
      );
      // The same delivery twice in one batch: the first is the one stored, the second a duplicate.
      return batch.map((d) => fresh.delete(d.id));
    });
  }
}
