import express from "express";
import { z } from "zod";
import type { BulkService } from "../bulk/service";
import { bulkItem } from "../block-slots/schemas";
import { triggerAccepted } from "../bulk/schemas";
import { blockSlotInputExample, EXAMPLE_LOCATION } from "../http/examples";
import { operation, type Operation } from "../http/operation";
import type { WebhookInbox } from "./inbox";

const TAG = "Webhooks";

const receipt = z.object({ id: z.string(), status: z.enum(["accepted", "duplicate"]) });

/**
 * `POST /webhooks/highlevel` (signed by HighLevel, checked over the raw bytes) and
 * `POST /webhooks/trigger` (an API key; for workflow "Custom Webhook" actions and other systems).
 */
export function webhookOperations(inbox: WebhookInbox, bulk: BulkService): Operation[] {
  return [
    operation({
      id: "receiveHighLevelWebhook",
      method: "post",
      path: "/webhooks/highlevel",
      tag: TAG,
      summary: "HighLevel's webhook deliveries (INSTALL, UNINSTALL, LocationUpdate, appointments)",
      description:
        "Set this as the app's webhook URL in HighLevel's developer portal. Only deliveries signed by HighLevel (`x-ghl-signature` or `x-wh-signature`, over the raw body) and at most 5 minutes old are accepted. Each is stored once per `webhookId` and worked from the durable queue.",
      auth: "none",
      // The signature covers the exact bytes sent: the body is kept raw, never re-serialised.
      readers: [express.raw({ type: () => true, limit: "1mb" })],
      response: {
        status: 200,
        description: "Stored (or already stored).",
        body: { name: "WebhookReceipt", schema: receipt, example: { id: "wh_7f3a9c", status: "accepted" } },
      },
      errors: {
        invalid_signature: "No valid HighLevel signature over the body.",
        stale_webhook: "The delivery's `timestamp` is more than 5 minutes away from now.",
        invalid_request: "Not JSON, or no `type`.",
        webhook_not_stored:
          "The delivery could not be stored (the database is unavailable): 429 with `Retry-After`, the one answer HighLevel sends a delivery again for.",
      },
      async handle({ req }) {
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        return inbox.receive(raw, req.headers);
      },
    }),
    operation({
      id: "triggerBlockSlot",
      method: "post",
      path: "/webhooks/trigger",
      tag: TAG,
      summary: "Queue one block slot (HighLevel workflow Custom Webhook, other systems)",
      description:
        "Answers at once; the block is created from the durable queue. Follow it at /api/block-slots/bulk/{id}.",
      auth: "apiKey",
      body: {
        name: "TriggerInput",
        schema: bulkItem,
        example: { locationId: EXAMPLE_LOCATION, ...blockSlotInputExample, title: "Held for a walk-in" },
      },
      idempotent: true,
      response: {
        status: 202,
        description: "Queued: `{id, status}`.",
        body: {
          name: "TriggerAccepted",
          schema: triggerAccepted,
          example: { id: "3f0c8a52-6d3e-4c1b-9a57-0b8f2d6e4a11", status: "queued" },
        },
      },
      errors: {
        invalid_request: "Invalid input, each field named.",
        forbidden: "A location outside the API key's scope.",
        idempotency_conflict: "The Idempotency-Key was used with another body.",
      },
      async handle({ body, principal, requestKey, resumed }) {
        const job = await bulk.submit(principal, [{ item: body }], "trigger", { key: requestKey, resumed });
        return { id: job.id, status: job.status };
      },
    }),
  ];
}
