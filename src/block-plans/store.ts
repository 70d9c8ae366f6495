import crypto from "node:crypto";
import { tenancyOf, type Tenancy } from "../auth/scope";
import type { Db } from "../db/client";
import { Prisma } from "../generated/prisma/client";
import { QUEUES, type JobQueue } from "../jobs/queue";
import type { PlannedBlock } from "./planner";
import type { Conflict, PlanBody } from "./schemas";

type Tx = Prisma.TransactionClient;

/** Writes the change's audit record inside the transaction that makes it; `where` is the plan's tenancy. */
export type WithinChange = (tx: Tx, planId: string, where: Tenancy) => Promise<void>;

/** What a queued plan-block job carries: a pointer, never the data (the row is the truth). */
export interface PlanBlockRef {
  planId: string;
  blockId: string;
}

const CHUNK = 1000;
const TX = { timeout: 60_000, maxWait: 10_000 };

/**
 * A block needs work when HighLevel does not hold what the plan wants: wanted and missing or
 * different, or unwanted and (maybe) there. The one definition, used after every change.
 */
const NEEDS_WORK = Prisma.sql`(
  (wanted AND (block_slot_id IS NULL OR applied_start_time IS DISTINCT FROM start_time
    OR applied_end_time IS DISTINCT FROM end_time OR applied_title IS DISTINCT FROM title))
  OR (NOT wanted AND (block_slot_id IS NOT NULL OR sent)))`;

/**
 * Sets each block's status from what it needs now, and queues those with work to do. A block
 * that failed is tried again (a change or a delete is the user asking again). Blocks a worker
 * holds are queued too: that entry waits for the lease, and the holder settles its block again.
 */
export async function settle(
  tx: Tx,
  queue: JobQueue,
  planId: string,
  which: { ids: string[] } | "all",
): Promise<number> {
  if (which !== "all" && which.ids.length === 0) return 0;
  const pending = await settleRows(tx, planId, which);
  await queue.insertWithin(
    tx,
    QUEUES.planBlock,
    pending.map((blockId) => ({ data: { planId, blockId } satisfies PlanBlockRef })),
  );
  return pending.length;
}

/** The status update of `settle`; returns the ids left pending. */
async function settleRows(db: Tx | Db, planId: string, which: { ids: string[] } | "all"): Promise<string[]> {
  const filter = which === "all" ? Prisma.sql`status <> 'removed'` : Prisma.sql`id = ANY(${which.ids}::text[]::uuid[])`;
  const rows = await db.$queryRaw<{ id: string; status: string }[]>`
    UPDATE plan_blocks
    SET status = (CASE WHEN ${NEEDS_WORK} THEN 'pending' WHEN wanted THEN 'created' ELSE 'removed' END)::"PlanBlockStatus",
        failures = CASE WHEN status = 'failed' THEN 0 ELSE failures END,
        updated_at = now()
    WHERE plan_id = ${planId}::uuid AND ${filter}
    RETURNING id::text, status::text`;
  return rows.filter((r) => r.status === "pending").map((r) => r.id);
}

/**
 * Settles one block after a worker's attempt, queueing it again when it still has work. No
 * transaction: until the worker's own queue entry is done, a crash between the two steps only
 * makes the queue run that entry again.
 */
export async function settleOne(db: Db, queue: JobQueue, ref: PlanBlockRef): Promise<boolean> {
  const pending = await settleRows(db, ref.planId, { ids: [ref.blockId] });
  if (pending.length > 0) await queue.send(QUEUES.planBlock, ref);
  return pending.length > 0;
}

const row = (planId: string, b: PlannedBlock) => ({
  id: crypto.randomUUID(),
  planId,
  key: b.key,
  locationId: b.locationId,
  calendarId: b.calendarId ?? null,
  assignedUserId: b.assignedUserId ?? null,
  occurrence: b.occurrence,
  startTime: b.startTime,
  endTime: b.endTime,
  title: b.title,
});

async function insertBlocks(tx: Tx, queue: JobQueue, planId: string, blocks: PlannedBlock[]): Promise<void> {
  const rows = blocks.map((b) => row(planId, b));
  for (let start = 0; start < rows.length; start += CHUNK) {
    await tx.planBlock.createMany({ data: rows.slice(start, start + CHUNK) });
  }
  await queue.insertWithin(
    tx,
    QUEUES.planBlock,
    rows.map((r) => ({ data: { planId, blockId: r.id } satisfies PlanBlockRef })),
  );
}

const planFields = (body: PlanBody, conflicts: Conflict[], total: number) => ({
  title: body.title,
  targets: body.targets as Prisma.InputJsonValue,
  schedule: body.schedule as Prisma.InputJsonValue,
  timeZone: body.timeZone,
  conflicts: conflicts as unknown as Prisma.InputJsonValue,
  total,
});

/** The plan, its blocks and one queue entry per block, in one transaction. */
export async function insertPlan(
  db: Db,
  queue: JobQueue,
  owner: { id: string; name: string },
  body: PlanBody,
  blocks: PlannedBlock[],
  conflicts: Conflict[],
  audit: WithinChange,
  requestKey?: string,
): Promise<string> {
  return db.$transaction(async (tx) => {
    // A new plan has held no blocks but these: its tenancy is theirs.
    const where = await tenancyOf(
      tx,
      blocks.map((b) => b.locationId),
    );
    const plan = await tx.blockPlan.create({
      data: {
        owner: owner.id,
        ownerName: owner.name,
        requestKey: requestKey ?? null,
        ...planFields(body, conflicts, blocks.length),
        ...where,
      },
    });
    await insertBlocks(tx, queue, plan.id, blocks);
    await audit(tx, plan.id, where);
    return plan.id;
  }, TX);
}

/** Where the plan acts now: every block it ever held, removed ones included, with each location's agency as it is today. */
async function planTenancy(tx: Tx, planId: string): Promise<Tenancy> {
  const rows = await tx.$queryRaw<{ location_id: string }[]>`
    SELECT DISTINCT location_id FROM plan_blocks WHERE plan_id = ${planId}::uuid`;
  return tenancyOf(
    tx,
    rows.map((r) => r.location_id),
  );
}

/**
 * Checks, under the plan's lock, that the caller may still touch all of it: the check before the
 * transaction read an unlocked row, and meanwhile a full-access key may have widened the plan, or a
 * location may have moved to another agency. Throws to roll back.
 */
export type ScopeGuard = (now: Tenancy) => void;

/** Takes the plan's row lock: one change or delete of a plan at a time. Null when it is gone. */
async function lockPlan(tx: Tx, planId: string): Promise<{ deletedAt: Date | null } | null> {
  const [plan] = await tx.$queryRaw<{ deleted_at: Date | null }[]>`
    SELECT deleted_at FROM block_plans WHERE id = ${planId}::uuid FOR UPDATE`;
  return plan ? { deletedAt: plan.deleted_at } : null;
}

/**
 * A change: new keys are inserted, keys no longer wanted are unwanted, keys whose times or title
 * changed get the new ones (their HighLevel block is edited, keeping its id); the others are left
 * alone. `undefined` when the plan was deleted meanwhile.
 */
export async function changePlan(
  db: Db,
  queue: JobQueue,
  planId: string,
  body: PlanBody,
  blocks: PlannedBlock[],
  conflicts: Conflict[],
  audit: WithinChange,
  guard?: ScopeGuard,
): Promise<{ added: number; changed: number; removed: number } | undefined> {
  return db.$transaction(async (tx) => {
    const plan = await lockPlan(tx, planId);
    if (plan && guard) guard(await planTenancy(tx, planId));
    if (!plan || plan.deletedAt) return undefined;
    const existing = await tx.planBlock.findMany({
      where: { planId },
      select: { id: true, key: true, wanted: true, startTime: true, endTime: true, title: true, status: true },
    });
    const byKey = new Map(existing.map((e) => [e.key, e]));
    const wanted = new Map(blocks.map((b) => [b.key, b]));
    const added = blocks.filter((b) => !byKey.has(b.key));
    const changed = existing.flatMap((e) => {
      const want = wanted.get(e.key);
      const differs =
        want && (!e.wanted || e.startTime !== want.startTime || e.endTime !== want.endTime || e.title !== want.title);
      return differs ? [{ id: e.id, ...want }] : [];
    });
    const gone = existing.filter((e) => e.wanted && !wanted.has(e.key)).map((e) => e.id);
    // Every failed block, wanted or not: a change is the user asking again, for a removal too.
    const retried = existing.filter((e) => e.status === "failed").map((e) => e.id);

    if (changed.length) {
      await tx.$executeRaw`
        UPDATE plan_blocks p
        SET wanted = true, start_time = v.start_time, end_time = v.end_time, title = v.title, updated_at = now()
        FROM unnest(${changed.map((c) => c.id)}::text[]::uuid[], ${changed.map((c) => c.startTime)}::text[],
                    ${changed.map((c) => c.endTime)}::text[], ${changed.map((c) => c.title)}::text[])
             AS v(id, start_time, end_time, title)
        WHERE p.id = v.id`;
    }
    if (gone.length) {
      await tx.$executeRaw`
        UPDATE plan_blocks SET wanted = false, updated_at = now() WHERE id = ANY(${gone}::text[]::uuid[])`;
    }
    await settle(tx, queue, planId, { ids: [...new Set([...changed.map((c) => c.id), ...gone, ...retried])] });
    await insertBlocks(tx, queue, planId, added);
    // Who sees the plan from now on. Removed blocks count: a key that sees a plan sees (and may undo)
    // all of it, so a plan that once reached another sub-account stays out of its neighbours' sight.
    const where = await planTenancy(tx, planId);
    await tx.blockPlan.update({
      where: { id: planId },
      data: { ...planFields(body, conflicts, blocks.length), ...where },
    });
    await audit(tx, planId, where);
    return { added: added.length, changed: changed.length, removed: gone.length };
  }, TX);
}

/** Every block unwanted, and those HighLevel may hold queued for deletion. Repeatable. */
export async function deletePlan(
  db: Db,
  queue: JobQueue,
  planId: string,
  audit: WithinChange,
  guard?: ScopeGuard,
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const plan = await lockPlan(tx, planId);
    if (!plan) return false;
    const now = await planTenancy(tx, planId);
    guard?.(now);
    if (!plan.deletedAt) {
      await tx.blockPlan.update({ where: { id: planId }, data: { deletedAt: new Date() } });
      // A repeated delete only re-queues what is left: the undo was recorded the first time.
      await audit(tx, planId, now);
    }
    await tx.planBlock.updateMany({ where: { planId, wanted: true }, data: { wanted: false } });
    await settle(tx, queue, planId, "all");
    return true;
  }, TX);
}
