import express from "express";
import type { Router } from "express";
import type { Principal } from "../auth/api-keys";
import { planBody, planViewQuery, storedSchedule, storedTargets } from "../block-plans/schemas";
import { AppError } from "../errors";
import type { Services } from "../services";
import { parseInput } from "../validation";
import { describeBlocks, describePreview } from "./plan-view";
import { agencyPrincipal, pageUser, type PageSession, type PageSessions } from "./session";

/**
 * Who plans for a page session. A sub-account's page plans over that location only (its staff
 * block their own calendars, as they do one block at a time); at agency level only admins do,
 * over their company's locations. The block-plan service checks every target against this
 * scope before anything is read, so a foreign location is refused whatever the page sends.
 * Which plans the page sees follows from the same scope: those wholly in its sub-account or agency.
 */
export function pagePlanner(session: PageSession, write: boolean): Principal {
  if (session.locationId) {
    return {
      id: `sso-location:${session.locationId}`,
      name: session.userName ?? "sub-account user",
      scope: "location",
      locationId: session.locationId,
      companyId: session.companyId,
    };
  }
  const admin = agencyPrincipal(session);
  if (admin) return admin;
  if (write) throw new AppError("forbidden", "Only agency admins can close sub-accounts or block hours across them.");
  // Reading only: the agency's plans are no secret from its own staff.
  return { id: `sso:${session.companyId}`, name: "agency user", scope: "company", companyId: session.companyId };
}

/** `/app/api/plans`: the custom page's "Close locations / block hours", over the block-plan service. */
export function planRoutes(router: Router, services: Services, sessions: PageSessions): void {
  // A plan over many sub-accounts names each one's calendars: more than a single block's body.
  const json = express.json({ limit: "200kb" });
  const as = (req: express.Request, write = false) => {
    const session = sessions.require(req, { write });
    return { session, principal: pagePlanner(session, write) };
  };

  router.post("/app/api/plans/preview", json, async (req, res) => {
    const { session, principal } = as(req, true);
    const body = parseInput(planBody, req.body, "body");
    const { blocks, conflicts } = await services.plans.preview(principal, body);
    res.json(await describePreview(services, session, blocks, conflicts));
  });

  router.post("/app/api/plans", json, async (req, res) => {
    const { session, principal } = as(req, true);
    const body = parseInput(planBody, req.body, "body");
    res.status(202).json(await services.plans.create(principal, body, pageUser(session)));
  });

  router.get("/app/api/plans", async (req, res) => {
    const { principal } = as(req);
    const plans = await services.plans.list(principal);
    res.json({
      plans: plans.map((p) => ({
        id: p.id,
        title: p.title,
        status: p.status,
        total: p.total,
        counts: p.counts,
        createdAt: p.createdAt.toISOString(),
        // Who, for a plan made on the page; an API key's name means nothing to office staff.
        ...(p.owner.startsWith("sso") ? { by: p.ownerName, madeWith: "page" } : { madeWith: "api" }),
        schedule: storedSchedule.parse(p.schedule),
        targets: storedTargets.parse(p.targets),
      })),
    });
  });

  router.get("/app/api/plans/:planId", async (req, res) => {
    const { session, principal } = as(req);
    const { blocks: filter } = parseInput(planViewQuery, { blocks: req.query.blocks }, "query");
    const {
      blocks,
      owner,
      conflicts: _conflicts,
      ...plan
    } = await services.plans.view(principal, req.params.planId, filter);
    res.json({
      ...plan,
      by: owner,
      createdAt: plan.createdAt.toISOString(),
      ...(blocks ? await describeBlocks(services, session, blocks) : {}),
    });
  });

  router.delete("/app/api/plans/:planId", async (req, res) => {
    const { session, principal } = as(req, true);
    res.status(202).json(await services.plans.remove(principal, req.params.planId, pageUser(session)));
  });
}
