import { Router } from "express";
import type { Db } from "../db/client";

/** `GET /api/installations`: what is connected and in what state — never a token. */
export function installationRoutes(db: Db): Router {
  const router = Router();
  router.get("/api/installations", async (_req, res) => {
    const [companies, locations, counts] = await Promise.all([
      db.company.findMany({ orderBy: { id: "asc" } }),
      db.location.findMany({ orderBy: { id: "asc" } }),
      db.location.groupBy({ by: ["companyId"], _count: { _all: true } }),
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
