import { Router } from "express";
import { principalOf } from "../auth/middleware";
import { parseOr400 } from "../block-slots/schemas";
import { blockingRuleBody } from "./schemas";
import type { BlockingRuleService } from "./service";

/** `/api/blocking-rules` (CONTRACT.md). */
export function blockingRuleRoutes(rules: BlockingRuleService): Router {
  const router = Router();
  router.get("/api/blocking-rules", async (_req, res) => {
    res.json({ rules: await rules.list(principalOf(res)) });
  });
  router.post("/api/blocking-rules", async (req, res) => {
    const body = parseOr400(blockingRuleBody, req.body, "body");
    const rule = await rules.create(principalOf(res), body);
    res.status(201).location(`/api/blocking-rules/${rule.id}`).json(rule);
  });
  router.delete("/api/blocking-rules/:id", async (req, res) => {
    await rules.remove(principalOf(res), req.params.id);
    res.status(204).end();
  });
  return router;
}
