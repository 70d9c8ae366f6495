import type { Db } from "../db/client";
import { WebhookStatus } from "../generated/prisma/client";

export const RECENT_DELIVERIES = 100;
export const WEBHOOK_STATUSES = Object.values(WebhookStatus);

export const parseWebhookStatus = (value: unknown): WebhookStatus | undefined =>
  WEBHOOK_STATUSES.find((s) => s === value);

/** The newest deliveries (never their payloads: they may carry customers' details) and a count per status. */
export async function recentDeliveries(db: Db, status: WebhookStatus | undefined) {
  const [deliveries, byStatus] = await Promise.all([
    db.webhookEvent.findMany({
      where: status ? { status } : {},
      orderBy: { receivedAt: "desc" },
      take: RECENT_DELIVERIES,
      select: {
        id: true,
        type: true,
        locationId: true,
        companyId: true,
        status: true,
        outcome: true,
        attempts: true,
        receivedAt: true,
        processedAt: true,
      },
    }),
    db.webhookEvent.groupBy({ by: ["status"], _count: { _all: true } }),
  ]);
  // Names of the sub-accounts and agencies the deliveries were about, where the app knows them.
  const ids = (key: "locationId" | "companyId") => [...new Set(deliveries.flatMap((d) => (d[key] ? [d[key]] : [])))];
  const [locations, companies] = await Promise.all([
    db.location.findMany({ where: { id: { in: ids("locationId") } }, select: { id: true, name: true } }),
    db.company.findMany({ where: { id: { in: ids("companyId") } }, select: { id: true, name: true } }),
  ]);
  const locationNames = new Map(locations.map((r) => [r.id, r.name]));
  const companyNames = new Map(companies.map((r) => [r.id, r.name]));
  const counts = Object.fromEntries(WEBHOOK_STATUSES.map((s) => [s, 0])) as Record<WebhookStatus, number>;
  for (const g of byStatus) counts[g.status] = g._count._all;
  const shown = deliveries.map((d) => ({
    ...d,
    locationName: d.locationId ? (locationNames.get(d.locationId) ?? null) : null,
    companyName: d.companyId ? (companyNames.get(d.companyId) ?? null) : null,
  }));
  return { deliveries: shown, counts, total: Object.values(counts).reduce((a, b) => a + b, 0) };
}
