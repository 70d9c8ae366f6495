import express, { Router } from "express";
import { z } from "zod";
import { principalOf } from "../auth/middleware";
import { parseOr400 } from "../block-slots/schemas";
import { AppError } from "../errors";
import { itemsFromCsv, itemsFromJson } from "./input";
import type { BulkService } from "./service";

/** 10,000 items of JSON or CSV fit well within this. */
const BODY_LIMIT = "5mb";
const viewQuery = z.strictObject({ items: z.enum(["all", "failed", "none"]).default("all") });

/** `/api/block-slots/bulk` (CONTRACT.md): submit, follow and cancel durable bulk jobs. */
export function bulkRoutes(bulk: BulkService): Router {
  const router = Router();
  const base = "/api/block-slots/bulk";
  const parsers = [
    express.json({ limit: BODY_LIMIT }),
    express.text({ type: ["text/csv", "application/csv"], limit: BODY_LIMIT }),
  ];

  router.post(base, ...parsers, async (req, res) => {
    const type = req.headers["content-type"] ?? "";
    let items;
    if (/^(text|application)\/csv\b/i.test(type)) items = itemsFromCsv(String(req.body ?? ""));
    else if (/^application\/json\b/i.test(type)) items = itemsFromJson(req.body);
    else throw new AppError("unsupported_media_type", "Send application/json `{items: [...]}` or text/csv.");
    const source = typeof req.body === "string" ? "csv" : "api";
    const job = await bulk.submit(principalOf(res), items, source);
    res.status(202).location(`${base}/${job.id}`).json(job);
  });

  router.get(`${base}/:id`, async (req, res) => {
    const { items } = parseOr400(viewQuery, req.query, "query");
    res.json(await bulk.view(principalOf(res), req.params.id, items));
  });

  router.delete(`${base}/:id`, async (req, res) => {
    res.json(await bulk.cancel(principalOf(res), req.params.id));
  });

  return router;
}
