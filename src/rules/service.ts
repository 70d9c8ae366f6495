import { UUID } from "../util/ids";
import { actorOf, type Actor, type AuditLog } from "../audit/log";
import type { Principal } from "../auth/api-keys";
import { seesTenancy, tenancyOf, tenancyWhere, type AccessPolicy } from "../auth/scope";
import type { Db } from "../db/client";
import type { BlockingRule as Row } from "../generated/prisma/client";
import { AppError, type FieldError } from "../errors";
import { z } from "zod";
import { ruleEndpoint, type BlockingRuleBody, type RuleEndpoint } from "./schemas";

export interface BlockingRule {
  id: string;
  name?: string;
  source: RuleEndpoint;
  targets: RuleEndpoint[];
  title?: string;
  createdAt: Date;
}

export function toRule(row: Row): BlockingRule {
  return {
    id: row.id,
    ...(row.name ? { name: row.name } : {}),
    source: {
      locationId: row.sourceLocationId,
      ...(row.sourceCalendarId ? { calendarId: row.sourceCalendarId } : { assignedUserId: row.sourceUserId! }),
    },
    targets: z.array(ruleEndpoint).parse(row.targets),
    ...(row.title ? { title: row.title } : {}),
    createdAt: row.createdAt,
  };
}

const notFound = (id: string) => new AppError("not_found", `There is no blocking rule ${id}.`);

/** Every sub-account a rule reads from or writes to. */
const endpointsOf = (row: Row) => [row.sourceLocationId, ...toRule(row).targets.map((t) => t.locationId)];

/**
 * Blocking rules. A rule belongs to where it acts (its source's and targets' sub-accounts), not to
 * the key that made it: a key sees and deletes the rules wholly in its scope (DECISIONS #53).
 */
export class BlockingRuleService {
  constructor(
    private readonly db: Db,
    private readonly access: AccessPolicy,
    /** The calendars a location has in HighLevel (its ids), to refuse a rule naming one it has not. */
    private readonly calendarsOf: (locationId: string) => Promise<string[]>,
    private readonly audit: AuditLog,
  ) {}

  async list(principal: Principal): Promise<BlockingRule[]> {
    const rows = await this.db.blockingRule.findMany({ where: tenancyWhere(principal), orderBy: { createdAt: "asc" } });
    return rows.map(toRule);
  }

  /** One rule this key may list (404 otherwise, as for a rule that does not exist). */
  async get(principal: Principal, id: string): Promise<BlockingRule> {
    const row = UUID.test(id)
      ? await this.db.blockingRule.findFirst({ where: { id, ...tenancyWhere(principal) } })
      : null;
    if (!row) throw notFound(id);
    return toRule(row);
  }

  /**
   * Every rule with a source or a target in one of `locationIds`, whoever made it: an agency's
   * admins see all rules that block or watch their sub-accounts, not only their own.
   */
  async touching(locationIds: string[]): Promise<{ rule: BlockingRule; row: Row }[]> {
    if (locationIds.length === 0) return [];
    const rows = await this.db.blockingRule.findMany({
      where: {
        OR: [
          { sourceLocationId: { in: locationIds } },
          // jsonb containment: a targets array with an element of that location.
          ...locationIds.map((id) => ({ targets: { array_contains: [{ locationId: id }] } })),
        ],
      },
      orderBy: { createdAt: "asc" },
    });
    return rows.map((row) => ({ rule: toRule(row), row }));
  }

  /** `actor`: who asked, when not the key itself (an agency admin on the custom page). */
  async create(principal: Principal, body: BlockingRuleBody, actor = actorOf(principal)): Promise<BlockingRule> {
    await this.assertEndpointsExist(principal, body);
    const row = await this.db.$transaction(async (tx) => {
      const tenancy = await tenancyOf(tx, [body.source.locationId, ...body.targets.map((t) => t.locationId)]);
      const row = await tx.blockingRule.create({
        data: {
          owner: principal.id,
          ...tenancy,
          name: body.name ?? null,
          sourceLocationId: body.source.locationId,
          sourceCalendarId: body.source.calendarId ?? null,
          sourceUserId: body.source.assignedUserId ?? null,
          targets: body.targets,
          title: body.title ?? null,
        },
      });
      await this.audit.within(tx, { action: "rule.created", actor, ...this.about(row) });
      return row;
    });
    return toRule(row);
  }

  /**
   * A rule on a sub-account the app does not know, or on a calendar its location does not have,
   * would never fire (or block nothing): refused at once, each bad field named. A scoped key gets
   * 403 for a location outside its scope whether or not it exists, so no other tenant's is revealed.
   */
  private async assertEndpointsExist(principal: Principal, body: BlockingRuleBody): Promise<void> {
    const endpoints: [string, RuleEndpoint][] = [
      ["source", body.source],
      ...body.targets.map((t, i): [string, RuleEndpoint] => [`targets.${i}`, t]),
    ];
    const ids = [...new Set(endpoints.map(([, e]) => e.locationId))];
    const known = await this.db.location.findMany({
      where: { id: { in: ids }, ...this.access.locationWhere(principal) },
      select: { id: true },
    });
    const visible = new Set(known.map((l) => l.id));
    const unknown: FieldError[] = endpoints
      .filter(([, e]) => !visible.has(e.locationId))
      .map(([path, e]) => ({ path: `${path}.locationId`, message: `no sub-account ${e.locationId} is connected` }));
    if (unknown.length) {
      if (principal.scope !== "all") {
        await this.access.assertLocations(principal, ids).catch((err: unknown) => {
          throw err instanceof AppError ? new AppError(err.code, err.message, { errors: unknown }) : err;
        });
      }
      throw new AppError("location_not_installed", "The rule names a sub-account that is not connected to this app.", {
        errors: unknown,
      });
    }
    const wrong: FieldError[] = [];
    const calendars = new Map<string, Promise<string[]>>();
    for (const [path, e] of endpoints) {
      if (!e.calendarId) continue;
      if (!calendars.has(e.locationId)) calendars.set(e.locationId, this.calendarsOf(e.locationId));
      if (!(await calendars.get(e.locationId))!.includes(e.calendarId)) {
        wrong.push({
          path: `${path}.calendarId`,
          message: `sub-account ${e.locationId} has no calendar ${e.calendarId}`,
        });
      }
    }
    if (wrong.length)
      throw new AppError("invalid_request", "The rule names a calendar that does not exist.", { errors: wrong });
  }

  /**
   * Blocks already made stay and keep following their appointments; the rule makes no new ones.
   * The stored tenancy picks the rule; under its row lock, where it acts now is checked again, in
   * case one of its sub-accounts has moved to another agency since the rule was made.
   */
  async remove(principal: Principal, id: string, actor: Actor = actorOf(principal)): Promise<void> {
    if (!UUID.test(id)) throw notFound(id);
    await this.db.$transaction(async (tx) => {
      const [locked] = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM blocking_rules WHERE id = ${id}::uuid FOR UPDATE`;
      const row = locked && (await tx.blockingRule.findFirst({ where: { id, ...tenancyWhere(principal) } }));
      // Two deletes of one rule at once: the second finds it gone, and only the first is recorded.
      if (!row) throw notFound(id);
      if (principal.scope !== "all") {
        const now = await tenancyOf(tx, endpointsOf(row));
        if (!seesTenancy(principal, now)) throw notFound(id);
      }
      await tx.blockingRule.delete({ where: { id } });
      await this.audit.within(tx, { action: "rule.deleted", actor, ...this.about(row) });
    });
  }

  /**
   * A rule's audit record names the rule's own tenancy (its one sub-account, its one agency), as a
   * plan's does, so the trail shows it to exactly those who may list and delete the rule
   * (DECISIONS #53); the source calendar or user says which appointments it follows.
   */
  private about(row: Row) {
    return {
      subjectId: row.id,
      locationId: row.locationId,
      companyId: row.companyId,
      calendarId: row.sourceCalendarId,
      assignedUserId: row.sourceUserId,
    };
  }
}
