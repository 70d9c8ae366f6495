import { Router } from "express";
import { z } from "zod";
import type { BlockSlotService } from "./service";
import { blockSlotBody, blockSlotListQuery, eventId, parseOr400 } from "./schemas";

const locationId = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, "must be a HighLevel location id");

/** `/api/locations/:locationId/block-slots` (CONTRACT.md). Input is checked before HighLevel is called. */
export function blockSlotRoutes(slots: BlockSlotService): Router {
  const router = Router();
  const base = "/api/locations/:locationId/block-slots";
  const location = (params: Record<string, string>) => parseOr400(locationId, params.locationId, "path");
  const event = (params: Record<string, string>) => parseOr400(eventId, params.eventId, "path");

  router.post(base, async (req, res) => {
    const id = location(req.params);
    const body = parseOr400(blockSlotBody, req.body, "body");
    res.status(201).json(await slots.create(id, body));
  });

  router.get(base, async (req, res) => {
    const id = location(req.params);
    const query = parseOr400(blockSlotListQuery, req.query, "query");
    res.json(await slots.list(id, query));
  });

  router.put(`${base}/:eventId`, async (req, res) => {
    const id = location(req.params);
    const target = event(req.params);
    const body = parseOr400(blockSlotBody, req.body, "body");
    res.json(await slots.update(id, target, body));
  });

  router.delete(`${base}/:eventId`, async (req, res) => {
    await slots.remove(location(req.params), event(req.params));
    res.status(204).end();
  });

  return router;
}
