import { UUID } from "../util/ids";
import { actorOf, type Actor, type AuditLog } from "../audit/log";
import type { Principal } from "../auth/api-keys";
import type { AccessPolicy } from "../auth/scope";
import type { Db } from "../db/client";
import type { BlockingRule as Row } from "../generated/prisma/client";
import { AppError } from "../errors";
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

/** Blocking rules, kept per API key: a key sees and deletes its own; a full-access key sees all. */
export class BlockingRuleService {
  constructor(
    private readonly db: Db,
    private readonly access: AccessPolicy,
    private readonly audit: AuditLog,
  ) {}

  async list(principal: Principal): Promise<BlockingRule[]> {
    const rows = await this.db.blockingRule.findMany({
      where: principal.scope === "all" ? {} : { owner: principal.id },
      orderBy: { createdAt: "asc" },
    });
    return rows.map(toRule);
  }

  /** `actor`: who asked, when not the key itself (an agency admin on the custom page). */
  async create(principal: Principal, body: BlockingRuleBody, actor = actorOf(principal)): Promise<BlockingRule> {
    const locations = [body.source.locationId, ...body.targets.map((t) => t.locationId)];
    await this.access.assertLocations(principal, [...new Set(locations)]);
    const row = await this.db.$transaction(async (tx) => {
      const row = await tx.blockingRule.create({
        data: {
          owner: principal.id,
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

  /** Blocks already made stay and keep following their appointments; the rule makes no new ones. */
  async remove(principal: Principal, id: string, actor: Actor = actorOf(principal)): Promise<void> {
    if (!UUID.test(id)) throw notFound(id);
    await this.db.$transaction(async (tx) => {
      const where = { id, ...(principal.scope === "all" ? {} : { owner: principal.id }) };
      const row = await tx.blockingRule.findFirst({ where });
      // Two deletes of one rule at once: only the one that removes it is recorded.
      if (!row || (await tx.blockingRule.deleteMany({ where })).count === 0) throw notFound(id);
      await this.audit.within(tx, { action: "rule.deleted", actor, ...this.about(row) });
    });
  }

  /** A rule's audit record is about its source: the location whose appointments it follows. */
  private about(row: Row) {
    return {
      subjectId: row.id,
      locationId: row.sourceLocationId,
      calendarId: row.sourceCalendarId,
      assignedUserId: row.sourceUserId,
    };
  }
}
