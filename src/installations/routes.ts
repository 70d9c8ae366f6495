import { Router } from "express";
import type { AccessPolicy } from "../auth/scope";
import { principalOf } from "../auth/middleware";
import type { Db } from "../db/client";

/** `GET /api/installations`: what is connected and in what state — never a token; only what the key may see. */
export function installationRoutes(db: Db, access: AccessPolicy): Router {
  const router = Router();
  router.get("/api/installations", async (_req, res) => {
    const principal = principalOf(res);
    const companyWhere = access.companyWhere(principal);
    const locationWhere = access.locationWhere(principal);
    const [companies, locations, counts] = await Promise.all([
      companyWhere ? db.company.findMany({ where: companyWhere, orderBy: { id: "asc" } }) : [],
      db.location.findMany({ where: locationWhere, orderBy: { id: "asc" } }),
      db.location.groupBy({ by: ["companyId"], where: locationWhere, _count: { _all: true } }),
    ]);
    const locationCount = new Map(counts.map((c) => [c.companyId, c._count._all]));
    res.json({
      companies: companies.map((c) => ({
        id: c.id,
        name: c.name,
        status: c.status,
        tokenExpiresAt: c.tokenExpiresAt,
        locationCount: locationCount.get(c.id) ?? 0,
        ...(c.lastError ? { lastError: c.lastError } : {}),
      })),
      locations: locations.map((l) => ({
        id: l.id,
        companyId: l.companyId,
        name: l.name,
        source: l.source,
        status: l.status,
        tokenExpiresAt: l.tokenExpiresAt,
        ...(l.lastError ? { lastError: l.lastError } : {}),
      })),
    });
  });
  return router;
}
