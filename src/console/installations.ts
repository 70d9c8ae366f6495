import type { Principal } from "../auth/api-keys";
import type { AccessPolicy } from "../auth/scope";
import type { Db } from "../db/client";
import { InstallStatus } from "../generated/prisma/client";

export const PAGE_SIZE = 100;
export const INSTALL_STATUSES = Object.values(InstallStatus);

export interface InstallationsQuery {
  status?: InstallStatus;
  q?: string;
  /** One agency's locations: the link behind an agency's location count. */
  agency?: string;
  /** Only installations whose token the background refresher gave up renewing. */
  attention?: boolean;
  page: number;
}

/** Reads `?status=&q=&page=`; anything unknown is treated as "not given" rather than refused. */
export function parseInstallationsQuery(query: Record<string, unknown>): InstallationsQuery {
  const status = INSTALL_STATUSES.find((s) => s === query.status);
  const text = (value: unknown) => (typeof value === "string" ? value.trim().slice(0, 100) : "");
  const q = text(query.q);
  const agency = text(query.agency);
  const page = Number(query.page);
  return {
    ...(status ? { status } : {}),
    ...(q ? { q } : {}),
    ...(agency ? { agency } : {}),
    ...(query.attention === "1" ? { attention: true } : {}),
    page: Number.isInteger(page) && page > 1 && page < 100_000 ? page : 1,
  };
}

/** What the Installations page shows, limited to what the key may see (the same rule as GET /api/installations). */
export async function loadInstallations(db: Db, access: AccessPolicy, principal: Principal, query: InstallationsQuery) {
  const companyWhere = access.companyWhere(principal);
  const scoped = access.locationWhere(principal);
  // AND, never a merged object: a filter from the address must not replace the key's own scope.
  const narrowed = {
    AND: [
      scoped,
      query.agency ? { companyId: query.agency } : {},
      query.q
        ? {
            OR: [
              { id: { contains: query.q, mode: "insensitive" as const } },
              { name: { contains: query.q, mode: "insensitive" as const } },
            ],
          }
        : {},
    ],
  };
  const givenUp = { refreshGivenUpAt: { not: null } };
  const where = {
    AND: [narrowed, query.status ? { status: query.status } : {}, query.attention ? givenUp : {}],
  };
  // Never the token columns: what reaches a view cannot leak into a page.
  const companyFields = {
    id: true,
    name: true,
    status: true,
    tokenExpiresAt: true,
    lastError: true,
    refreshFailingSince: true,
    refreshGivenUpAt: true,
  } as const;
  const locationFields = { ...companyFields, companyId: true, source: true, timeZone: true } as const;

  const [companies, byCompany, byStatus, matching, locations, attention] = await Promise.all([
    companyWhere
      ? db.company.findMany({
          where: companyWhere,
          select: companyFields,
          orderBy: [{ name: { sort: "asc", nulls: "last" } }, { id: "asc" }],
        })
      : [],
    db.location.groupBy({ by: ["companyId"], where: scoped, _count: { _all: true } }),
    db.location.groupBy({ by: ["status"], where: narrowed, _count: { _all: true } }),
    db.location.count({ where }),
    db.location.findMany({
      where,
      select: locationFields,
      orderBy: [{ name: { sort: "asc", nulls: "last" } }, { id: "asc" }],
      skip: (query.page - 1) * PAGE_SIZE,
      take: PAGE_SIZE,
    }),
    db.location.count({ where: { AND: [scoped, givenUp] } }),
  ]);

  const locationCount = new Map(byCompany.map((c) => [c.companyId, c._count._all]));
  const statusCounts = Object.fromEntries(INSTALL_STATUSES.map((s) => [s, 0])) as Record<InstallStatus, number>;
  for (const g of byStatus) statusCounts[g.status] = g._count._all;
  const companyNames = new Map(companies.map((c) => [c.id, c.name]));

  return {
    companies: companies.map((c) => ({
      ...c,
      locationCount: locationCount.get(c.id) ?? 0,
      needsAttention: c.refreshGivenUpAt !== null,
    })),
    locations: locations.map((l) => ({
      ...l,
      companyName: l.companyId ? (companyNames.get(l.companyId) ?? null) : null,
      needsReinstall: l.status === "reauthorization_required" || l.status === "failed",
      needsAttention: l.refreshGivenUpAt !== null,
    })),
    /** Locations the background refresher gave up on, within the key's scope (whatever the filter). */
    attention,
    statusCounts,
    total: Object.values(statusCounts).reduce((a, b) => a + b, 0),
    matching,
    pages: Math.max(1, Math.ceil(matching / PAGE_SIZE)),
    companiesVisible: companyWhere !== null,
    agencyName: query.agency ? (companyNames.get(query.agency) ?? query.agency) : null,
  };
}

export type Installations = Awaited<ReturnType<typeof loadInstallations>>;
