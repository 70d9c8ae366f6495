import { actorOf, type Actor, type AuditAction, type AuditLog } from "../audit/log";
import type { Principal } from "../auth/api-keys";
import { seesTenancy, tenancyWhere } from "../auth/scope";
import type { BlockSlotService } from "../block-slots/service";
import type { Db } from "../db/client";
import { AppError, invalidRequest } from "../errors";
import type { PlanBlockStatus } from "../generated/prisma/client";
import type { JobQueue } from "../jobs/queue";
import { UUID } from "../util/ids";
import { expand, findConflicts, type PlannedBlock } from "./planner";
import {
  storedConflicts,
  storedSchedule,
  storedTargets,
  type Conflict,
  type PlanBody,
  type PlanStatus,
} from "./schemas";
import { changePlan, deletePlan, insertPlan, type ScopeGuard, type WithinChange } from "./store";
import type { PlanTargets } from "./targets";

export type BlockCounts = Record<PlanBlockStatus, number>;
export type BlockFilter = "all" | "failed" | "none";

/** The rule of a plan's status, from whether it was deleted and how many blocks are where. */
export function planStatus(deleted: boolean, counts: BlockCounts): PlanStatus {
  if (deleted) return counts.pending > 0 ? "deleting" : "deleted";
  if (counts.pending > 0) return "applying";
  return counts.failed > 0 ? "applied_with_errors" : "applied";
}

const notFound = (id: string) => new AppError("not_found", `There is no block plan ${id}.`);
const emptyCounts = (): BlockCounts => ({ pending: 0, created: 0, failed: 0, removed: 0 });
const RECENT_PLANS = 200;

/** Where a page of `list` ended: the last plan's creation time and id. */
export interface PlanCursor {
  createdAt: Date;
  id: string;
}

/** Plans: preview, apply, read, change and delete. The blocks themselves are made by PlanWorker. */
export class BlockPlanService {
  constructor(
    private readonly db: Db,
    private readonly queue: JobQueue,
    private readonly targets: PlanTargets,
    private readonly slots: BlockSlotService,
    private readonly audit: AuditLog,
  ) {}

  /**
   * A plan's audit record names the plan's own tenancy (its one location, its one agency), so the
   * trail shows the change to exactly those who see the plan (DECISIONS #53).
   */
  private record(principal: Principal, action: AuditAction, actor: Actor = actorOf(principal)): WithinChange {
    return (tx, planId, where) =>
      this.audit.within(tx, {
        action,
        actor,
        locationId: where.locationId,
        companyId: where.companyId,
        subjectId: planId,
      });
  }

  /** Scope first (403, nothing read), then the targets, the blocks and what is already in their windows. */
  private async plan(principal: Principal, body: PlanBody, ownIds?: ReadonlySet<string>) {
    const targets = await this.targets.resolve(principal, body);
    const blocks = await expand(body, targets);
    const conflicts = await findConflicts(this.slots, blocks, ownIds);
    return { blocks, conflicts };
  }

  /** Reads only: nothing is created. */
  async preview(principal: Principal, body: PlanBody): Promise<{ blocks: PlannedBlock[]; conflicts: Conflict[] }> {
    return this.plan(principal, body);
  }

  /** `actor`: who asked, when not the key itself (a user on the custom page). */
  /**
   * `request`: the Idempotency-Key it came with (`requestKeyOf`) and whether an earlier attempt with
   * it may have had an effect: then the plan that attempt made, if it made one, is the answer.
   */
  async create(principal: Principal, body: PlanBody, actor?: Actor, request: { key?: string; resumed?: boolean } = {}) {
    if (request.key && request.resumed) {
      const earlier = await this.db.blockPlan.findFirst({
        where: { requestKey: request.key, owner: principal.id },
        orderBy: { createdAt: "desc" },
        select: { id: true, total: true },
      });
      if (earlier) return { id: earlier.id, status: "applying" as const, total: earlier.total };
    }
    const { blocks, conflicts } = await this.plan(principal, body);
    if (blocks.length === 0) throw nothingToDo();
    const audit = this.record(principal, "plan.applied", actor);
    const id = await insertPlan(this.db, this.queue, principal, body, blocks, conflicts, audit, request.key);
    return { id, status: "applying" as const, total: blocks.length };
  }

  /** Applies only the difference; see changePlan. A plan being deleted cannot be changed. */
  async change(principal: Principal, id: string, body: PlanBody) {
    const plan = await this.own(principal, id);
    if (plan.deletedAt) throw deletedPlan(id);
    const made = await this.db.planBlock.findMany({
      where: { planId: id, blockSlotId: { not: null } },
      select: { blockSlotId: true },
    });
    const { blocks, conflicts } = await this.plan(principal, body, new Set(made.map((m) => m.blockSlotId!)));
    if (blocks.length === 0) throw nothingToDo();
    const audit = this.record(principal, "plan.changed");
    const result = await changePlan(this.db, this.queue, id, body, blocks, conflicts, audit, this.guard(principal, id));
    if (!result) throw deletedPlan(id);
    const counts = await this.counts(id);
    return { id, status: planStatus(false, counts), total: blocks.length };
  }

  async remove(principal: Principal, id: string, actor?: Actor) {
    const plan = await this.own(principal, id);
    await deletePlan(this.db, this.queue, id, this.record(principal, "plan.deleted", actor), this.guard(principal, id));
    return { id, status: planStatus(true, await this.counts(id)), total: plan.total };
  }

  async view(principal: Principal, id: string, filter: BlockFilter = "all") {
    const plan = await this.own(principal, id);
    const counts = await this.counts(id);
    const rows =
      filter === "none"
        ? []
        : await this.db.planBlock.findMany({
            where: { planId: id, ...(filter === "failed" ? { status: "failed" } : {}) },
            orderBy: { key: "asc" },
            select: {
              locationId: true,
              calendarId: true,
              assignedUserId: true,
              startTime: true,
              endTime: true,
              status: true,
              blockSlotId: true,
              errorCode: true,
              errorDetail: true,
            },
          });
    return {
      id,
      title: plan.title,
      targets: storedTargets.parse(plan.targets),
      schedule: storedSchedule.parse(plan.schedule),
      timeZone: plan.timeZone,
      status: planStatus(plan.deletedAt !== null, counts),
      total: plan.total,
      createdAt: plan.createdAt,
      owner: plan.ownerName,
      counts,
      ...(filter === "none"
        ? {}
        : {
            blocks: rows.map((r) => ({
              locationId: r.locationId,
              ...(r.calendarId ? { calendarId: r.calendarId } : { assignedUserId: r.assignedUserId! }),
              startTime: r.startTime,
              endTime: r.endTime,
              status: r.status,
              ...(r.blockSlotId ? { blockSlotId: r.blockSlotId } : {}),
              ...(r.status === "failed" && r.errorCode
                ? { error: { code: r.errorCode, detail: r.errorDetail ?? "" } }
                : {}),
            })),
          }),
      conflicts: storedConflicts.parse(plan.conflicts),
    };
  }

  /** The plans this key sees (its agency's, its sub-account's, or all), newest first, with their status and counts. */
  /**
   * Newest first, `limit` at a time; `before` continues below a plan of the page before (its
   * creation time and id: plans made in the same millisecond are told apart by id).
   */
  async list(principal: Principal, page: { before?: PlanCursor; limit?: number } = {}) {
    const before = page.before;
    const plans = await this.db.blockPlan.findMany({
      where: {
        ...tenancyWhere(principal),
        ...(before
          ? { OR: [{ createdAt: { lt: before.createdAt } }, { createdAt: before.createdAt, id: { lt: before.id } }] }
          : {}),
      },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: page.limit ?? RECENT_PLANS,
      select: {
        id: true,
        title: true,
        total: true,
        createdAt: true,
        deletedAt: true,
        owner: true,
        ownerName: true,
        schedule: true,
        targets: true,
      },
    });
    const groups = plans.length
      ? await this.db.planBlock.groupBy({
          by: ["planId", "status"],
          where: { planId: { in: plans.map((p) => p.id) } },
          _count: { _all: true },
        })
      : [];
    return plans.map((p) => {
      const counts = emptyCounts();
      for (const g of groups) if (g.planId === p.id) counts[g.status] = g._count._all;
      return { ...p, counts, status: planStatus(p.deletedAt !== null, counts) };
    });
  }

  private async counts(planId: string): Promise<BlockCounts> {
    const groups = await this.db.planBlock.groupBy({ by: ["status"], where: { planId }, _count: { _all: true } });
    const counts = emptyCounts();
    for (const g of groups) counts[g.status] = g._count._all;
    return counts;
  }

  /** The same rule as `own`, on the plan as it is under its lock (none for a full-access key). */
  private guard(principal: Principal, id: string): ScopeGuard | undefined {
    if (principal.scope === "all") return undefined;
    return (now) => {
      if (!seesTenancy(principal, now)) throw notFound(id);
    };
  }

  /** A plan that reaches beyond the key's scope is "not found": its existence is not this caller's business. */
  private async own(principal: Principal, id: string) {
    if (!UUID.test(id)) throw notFound(id);
    const plan = await this.db.blockPlan.findUnique({ where: { id } });
    if (!plan || !seesTenancy(principal, plan)) throw notFound(id);
    return plan;
  }
}

const nothingToDo = () =>
  invalidRequest("The plan makes no blocks: no target has a calendar, or every occurrence is excluded.", [
    { path: "targets", message: "make no blocks with this schedule" },
  ]);

const deletedPlan = (id: string) =>
  new AppError("plan_deleted", `Block plan ${id} was deleted; make a new plan instead of changing it.`);
