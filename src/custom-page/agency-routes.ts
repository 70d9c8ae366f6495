import { seesTenancy } from "../auth/scope";
import type express from "express";
import type { Router } from "express";
import { locationId as locationIdSchema } from "../block-slots/schemas";
import { AppError } from "../errors";
import type { RuleEndpoint } from "../rules/schemas";
import { blockingRuleBody } from "../rules/schemas";
import type { Services } from "../services";
import { parseInput } from "../validation";
import { whoseTime, type Whose } from "./calendar-view";
import { agencyPrincipal, pageUser, type PageSession, type PageSessions } from "./session";

/**
 * The agency view's JSON: the calendars and people of a sub-account, and the blocking rules that
 * touch the agency's sub-accounts, each described by name ("Downtown – Cleanings → Uptown – Rehab").
 */
export function agencyRoutes(
  router: Router,
  services: Services,
  sessions: PageSessions,
  json: express.RequestHandler,
): void {
  const admin = (req: express.Request, write = false) => {
    const session = sessions.require(req, { write });
    const principal = agencyPrincipal(session);
    if (!principal) throw new AppError("forbidden", "Only agency admins can see and change blocking rules.");
    return { session, principal };
  };

  const companyLocations = (companyId: string) =>
    services.db.location.findMany({ where: { companyId }, select: { id: true, name: true, status: true } });

  router.get("/app/api/agency/locations/:locationId/whose", async (req, res) => {
    const { session } = admin(req);
    const id = parseInput(locationIdSchema, req.params.locationId, "path");
    const location = await services.db.location.findFirst({ where: { id, companyId: session.companyId } });
    if (!location) throw new AppError("not_found", `There is no sub-account ${id} in this agency.`);
    res.json(await whoseTime(services, id, session));
  });

  router.get("/app/api/rules", async (req, res) => {
    const { session, principal } = admin(req);
    const locations = await companyLocations(session.companyId);
    const found = await services.rules.touching(locations.map((l) => l.id));
    const label = labeller(services, session, locations);
    const rules = [];
    for (const { rule, row } of found) {
      const parts = await Promise.all([rule.source, ...rule.targets].map(label));
      rules.push({
        ...rule,
        label: `${parts[0]} → ${parts.slice(1).join(", ")}`,
        // Wholly in the agency's sub-accounts, whoever made it (the page or an API key): the agency's
        // to delete. A rule that also reaches another agency's stays with a full-access key.
        own: seesTenancy(principal, row),
      });
    }
    res.json({ rules });
  });

  router.post("/app/api/rules", json, async (req, res) => {
    const { principal, session } = admin(req, true);
    const body = parseInput(blockingRuleBody, req.body, "body");
    res.status(201).json(await services.rules.create(principal, body, pageUser(session)));
  });

  router.delete("/app/api/rules/:id", async (req, res) => {
    const { principal, session } = admin(req, true);
    await services.rules.remove(principal, req.params.id, pageUser(session));
    res.status(204).end();
  });
}

/**
 * Names an endpoint: the sub-account's name and the calendar's or person's. Each sub-account's
 * calendars are read once per listing; one HighLevel cannot answer for falls back to ids.
 */
function labeller(
  services: Services,
  session: PageSession,
  locations: { id: string; name: string | null; status: string }[],
): (e: RuleEndpoint) => Promise<string> {
  const names = new Map(locations.map((l) => [l.id, l]));
  const whose = new Map<string, Promise<Whose | undefined>>();
  const whoseOf = (id: string) => {
    if (!whose.has(id)) {
      const active = names.get(id)?.status === "active";
      whose.set(id, active ? whoseTime(services, id, session).catch(() => undefined) : Promise.resolve(undefined));
    }
    return whose.get(id)!;
  };
  return async (e) => {
    const place = names.get(e.locationId)?.name ?? `sub-account ${e.locationId}`;
    const known = await whoseOf(e.locationId);
    const who = e.calendarId
      ? (known?.calendars.find((c) => c.id === e.calendarId)?.name ?? `calendar ${e.calendarId}`)
      : (known?.teamMembers.find((u) => u.id === e.assignedUserId)?.name ?? `team member ${e.assignedUserId}`);
    return `${place} – ${who}`;
  };
}
