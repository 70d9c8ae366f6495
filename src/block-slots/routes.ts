import { Router, type Response } from "express";
import { principalOf } from "../auth/middleware";
import type { AccessPolicy } from "../auth/scope";
import { answerIdempotently, type IdempotencyStore } from "../http/idempotency";
import type { BlockSlotService } from "./service";
import { blockSlotBody, blockSlotListQuery, eventId, locationId, parseOr400 } from "./schemas";

/**
 * `/api/locations/:locationId/block-slots` (CONTRACT.md). The key's scope and the input are
 * checked before HighLevel is called.
 */
export function blockSlotRoutes(slots: BlockSlotService, access: AccessPolicy, idempotency: IdempotencyStore): Router {
  const router = Router();
  const base = "/api/locations/:locationId/block-slots";
  const location = async (params: Record<string, string>, res: Response) => {
    const id = parseOr400(locationId, params.locationId, "path");
    await access.assertLocation(principalOf(res), id);
    return id;
  };
  const event = (params: Record<string, string>) => parseOr400(eventId, params.eventId, "path");

  router.post(base, async (req, res) => {
    const id = await location(req.params, res);
    const body = parseOr400(blockSlotBody, req.body, "body");
    await answerIdempotently(req, res, idempotency, principalOf(res).id, body, async (resumed) => ({
      status: 201,
      body: await slots.create(id, body, { lookFirst: resumed }),
    }));
  });

  router.get(base, async (req, res) => {
    const id = await location(req.params, res);
    const query = parseOr400(blockSlotListQuery, req.query, "query");
    res.json(await slots.list(id, query));
  });

  router.put(`${base}/:eventId`, async (req, res) => {
    const id = await location(req.params, res);
    const target = event(req.params);
    const body = parseOr400(blockSlotBody, req.body, "body");
    res.json(await slots.update(id, target, body));
  });

  router.delete(`${base}/:eventId`, async (req, res) => {
    const id = await location(req.params, res);
    await slots.remove(id, event(req.params));
    res.status(204).end();
  });

  return router;
}
