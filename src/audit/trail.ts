import type { Db } from "../db/client";
import type { AuditActorKind, AuditEvent, Prisma } from "../generated/prisma/client";

export const ACTOR_KINDS: readonly AuditActorKind[] = ["api_key", "user", "webhook", "rule", "plan", "bulk_job", "cli"];

/** The published actor types (README, "Audit trail"); the stored kinds say more (which bulk job, plan or command line). */
export const ACTOR_TYPE = {
  api_key: "api_key",
  user: "sso_user",
  webhook: "webhook",
  rule: "rule",
  plan: "system",
  bulk_job: "system",
  cli: "system",
} as const satisfies Record<AuditActorKind, string>;
export type ActorType = (typeof ACTOR_TYPE)[AuditActorKind];
export const ACTOR_TYPES = [...new Set(Object.values(ACTOR_TYPE))] as [ActorType, ...ActorType[]];

/** The stored kinds an `actor` filter names: a kind itself, or every kind of a published type. */
const kindsNamed = (actor: string): AuditActorKind[] =>
  ACTOR_KINDS.filter((kind) => kind === actor || ACTOR_TYPE[kind] === actor);

/** What a reader may see: everything, one company's records, or one location's. */
export type AuditScope = { companyId?: string; locationId?: string };

export interface AuditFilter {
  locationId?: string;
  since?: Date;
  until?: Date;
  /** An actor's id (an API key, a HighLevel user, a rule…), an actor type (`sso_user`, `system`…) or kind (`plan`…). */
  actor?: string;
  /** Only records older than this id: the cursor of the page before. */
  before?: bigint;
  limit: number;
}

export interface AuditPage {
  events: AuditEvent[];
  /** The id to continue below, when there may be more. */
  next: bigint | null;
}

/**
 * Reading the audit trail, newest first. Pages are cut by id (increasing with every record), so a
 * record written while someone pages through never shifts or repeats a page.
 */
export class AuditTrail {
  constructor(private readonly db: Db) {}

  async page(scope: AuditScope, filter: AuditFilter): Promise<AuditPage> {
    const actor = filter.actor;
    const kinds = actor ? kindsNamed(actor) : [];
    const where: Prisma.AuditEventWhereInput = {
      AND: [
        scope,
        filter.locationId ? { locationId: filter.locationId } : {},
        filter.since || filter.until ? { at: { gte: filter.since, lt: filter.until } } : {},
        filter.before ? { id: { lt: filter.before } } : {},
        actor
          ? {
              OR: [{ actorId: actor }, ...(kinds.length ? [{ actorKind: { in: kinds } }] : [])],
            }
          : {},
      ],
    };
    const rows = await this.db.auditEvent.findMany({ where, orderBy: { id: "desc" }, take: filter.limit + 1 });
    const more = rows.length > filter.limit;
    const events = more ? rows.slice(0, filter.limit) : rows;
    return { events, next: more ? (events.at(-1)?.id ?? null) : null };
  }
}
