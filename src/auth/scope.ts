import type { Db } from "../db/client";
import type { Prisma } from "../generated/prisma/client";
import { NotifiedCache } from "../db/notified-cache";
import { AppError } from "../errors";
import type { Principal } from "./api-keys";

const outOfScope = (principal: Principal, what: string) =>
  new AppError(
    "forbidden",
    `The API key "${principal.name}" may act only on ${
      principal.scope === "company" ? `company ${principal.companyId}'s locations` : `location ${principal.locationId}`
    }, not on ${what}.`,
  );

/** What a key may touch: everything, one company's locations, or one location. Checked before any HighLevel call. */
export class AccessPolicy {
  /** Location → company, kept while `token_changes` notifications arrive (they drop a changed location). */
  private readonly companies = new NotifiedCache<{ companyId: string | null }>({ ttlMs: 600_000, maxSize: 100_000 });

  constructor(private readonly db: Db) {}

  listenForChanges(notifications: { readonly listening: boolean }): void {
    this.companies.listenTo(notifications);
  }

  /** `token_changes`: a location row ("location:<id>") was updated or deleted. */
  changed(payload: string): void {
    if (payload.startsWith("location:")) this.companies.delete(payload.slice("location:".length));
  }

  lost(): void {
    this.companies.clear();
  }

  /** The company a location belongs to, as the app knows it (null: not known). */
  private async companyOf(locationId: string): Promise<string | null> {
    const kept = this.companies.get(locationId);
    if (kept) return kept.companyId;
    const version = this.companies.version();
    const row = await this.db.location.findUnique({ where: { id: locationId }, select: { companyId: true } });
    // Only known locations: an unknown one may be installed any moment, and there is no row to announce it.
    if (row) this.companies.set(locationId, { companyId: row.companyId }, version);
    return row?.companyId ?? null;
  }

  async assertLocation(principal: Principal, locationId: string): Promise<void> {
    if (principal.scope === "all") return;
    if (principal.scope === "location") {
      if (principal.locationId === locationId) return;
      throw outOfScope(principal, `location ${locationId}`);
    }
    // A company key reaches a location only when the app knows it belongs to that company.
    const companyId = await this.companyOf(locationId);
    if (companyId && companyId === principal.companyId) return;
    throw outOfScope(principal, `location ${locationId}`);
  }

  /** Every location at once (a bulk job): one query, and the refusal names the locations outside the scope. */
  async assertLocations(principal: Principal, locationIds: string[]): Promise<void> {
    if (principal.scope === "all") return;
    let outside: string[];
    if (principal.scope === "location") {
      outside = locationIds.filter((id) => id !== principal.locationId);
    } else {
      const known = await this.db.location.findMany({
        where: { id: { in: locationIds }, companyId: principal.companyId! },
        select: { id: true },
      });
      const inside = new Set(known.map((l) => l.id));
      outside = locationIds.filter((id) => !inside.has(id));
    }
    if (outside.length === 0) return;
    const named =
      outside.length > 10 ? `${outside.slice(0, 10).join(", ")} and ${outside.length - 10} more` : outside.join(", ");
    throw outOfScope(principal, `location${outside.length > 1 ? "s" : ""} ${named}`);
  }

  /** A Prisma filter on locations that keeps only those the key may see. */
  locationWhere(principal: Principal): { id?: string; companyId?: string } {
    if (principal.scope === "location") return { id: principal.locationId! };
    if (principal.scope === "company") return { companyId: principal.companyId! };
    return {};
  }

  /** Null: the key sees no company (a location key — the company token is the agency's, not the sub-account's). */
  companyWhere(principal: Principal): { id?: string } | null {
    if (principal.scope === "company") return { id: principal.companyId! };
    if (principal.scope === "location") return null;
    return {};
  }
}

/**
 * Where a plan or a bulk job acts: the one sub-account and the one agency its locations lie in,
 * null where they are several (or a location's agency is unknown). It decides who sees the thing,
 * as it decides who may touch a block: not the key that made it (DECISIONS #53).
 */
export interface Tenancy {
  companyId: string | null;
  locationId: string | null;
}

export async function tenancyOf(db: Prisma.TransactionClient, locationIds: Iterable<string>): Promise<Tenancy> {
  const ids = [...new Set(locationIds)];
  if (ids.length === 0) return { companyId: null, locationId: null };
  const [row] = await db.$queryRaw<
    { known: number; companies: number; withCompany: number; companyId: string | null }[]
  >`
    SELECT count(*)::int AS known, count(DISTINCT company_id)::int AS companies,
           count(company_id)::int AS "withCompany", min(company_id) AS "companyId"
    FROM locations WHERE id = ANY(${ids}::text[])`;
  const oneAgency = row && row.known === ids.length && row.withCompany === ids.length && row.companies === 1;
  return { companyId: oneAgency ? row.companyId : null, locationId: ids.length === 1 ? ids[0]! : null };
}

/**
 * A filter that keeps what a key may see of things that name their location and agency (plans,
 * jobs, rules, audit records): everything, its agency's, or its sub-account's.
 */
export function tenancyWhere(principal: Principal): { locationId?: string; companyId?: string } {
  // Prisma ignores an undefined field: a scoped key without its id would see everything. Fail closed.
  if (principal.scope === "location") return { locationId: required(principal.locationId, principal) };
  if (principal.scope === "company") return { companyId: required(principal.companyId, principal) };
  return {};
}

function required(id: string | undefined, principal: Principal): string {
  if (!id) throw new Error(`The ${principal.scope} key "${principal.name}" names no ${principal.scope}.`);
  return id;
}

/** The same rule for one thing already read. */
export function seesTenancy(principal: Principal, thing: Tenancy): boolean {
  if (principal.scope === "location") return thing.locationId === principal.locationId;
  if (principal.scope === "company") return thing.companyId === principal.companyId;
  return true;
}
