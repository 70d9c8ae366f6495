import express, { Router } from "express";
import { principalOf, requireApiKey } from "../auth/middleware";
import type { ApiKeyService } from "../auth/api-keys";
import { bulkItem, parseOr400 } from "../block-slots/schemas";
import type { BulkService } from "../bulk/service";
import { answerIdempotently, type IdempotencyStore } from "../http/idempotency";
import type { WebhookInbox } from "./inbox";

/**
 * `POST /webhooks/highlevel` (signed by HighLevel, checked over the raw bytes) and
 * `POST /webhooks/trigger` (an API key; for workflow "Custom Webhook" actions and other systems).
 */
export function webhookRoutes(
  inbox: WebhookInbox,
  deps: { apiKeys: ApiKeyService; bulk: BulkService; idempotency: IdempotencyStore },
): Router {
  const router = Router();

  // The signature covers the exact bytes sent: the body is kept raw, never re-serialised.
  router.post("/webhooks/highlevel", express.raw({ type: () => true, limit: "1mb" }), async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const receipt = await inbox.receive(raw, req.headers);
    res.status(200).json(receipt);
  });

  router.post("/webhooks/trigger", requireApiKey(deps.apiKeys), express.json({ limit: "100kb" }), async (req, res) => {
    const principal = principalOf(res);
    const item = parseOr400(bulkItem, req.body, "body");
    await answerIdempotently(req, res, deps.idempotency, principal.id, item, async () => {
      const job = await deps.bulk.submit(principal, [item], "trigger");
      return { status: 202, body: { id: job.id, status: job.status } };
    });
  });

  return router;
}
