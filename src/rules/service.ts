import { UUID } from "../util/ids";
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
  ) {}

  async list(principal: Principal): Promise<BlockingRule[]> {
    const rows = await this.db.blockingRule.findMany({
      where: principal.scope === "all" ? {} : { owner: principal.id },
      orderBy: { createdAt: "asc" },
    });
    return rows.map(toRule);
  }

  async create(principal: Principal, body: BlockingRuleBody): Promise<BlockingRule> {
    const locations = [body.source.locationId, ...body.targets.map((t) => t.locationId)];
    await this.access.assertLocations(principal, [...new Set(locations)]);
    const row = await this.db.blockingRule.create({
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
    return toRule(row);
  }

  /** Blocks already made stay and keep following their appointments; the rule makes no new ones. */
  async remove(principal: Principal, id: string): Promise<void> {
    if (!UUID.test(id)) throw notFound(id);
    const { count } = await this.db.blockingRule.deleteMany({
      where: { id, ...(principal.scope === "all" ? {} : { owner: principal.id }) },
    });
    if (count === 0) throw notFound(id);
  }
}
