import type { Logger } from "pino";
import type { BlockSlotBody } from "../block-slots/schemas";
import type { BlockSlotService } from "../block-slots/service";
import type { Db } from "../db/client";
import { Prisma } from "../generated/prisma/client";
import { AppError, asAppError } from "../errors";
import { QUEUES, sendByForLease, type JobQueue, type WorkOptions } from "../jobs/queue";
import { rateLimitWait } from "../jobs/rate-limited";
import { settleOne, type PlanBlockRef } from "./store";

/** Transient failures before a block fails for good with its last reason. */
const MAX_FAILURES = 5;
/** In the claim: this claim is the one that marks a create as going out. */
const FIRST_SEND = Prisma.sql`(NOT plan_blocks.sent AND wanted AND block_slot_id IS NULL)`;

interface ClaimedBlock {
  location_id: string;
  calendar_id: string | null;
  assigned_user_id: string | null;
  start_time: string;
  end_time: string;
  title: string;
  wanted: boolean;
  block_slot_id: string | null;
  applied_start_time: string | null;
  applied_end_time: string | null;
  applied_title: string | null;
  failures: number;
  was_sent: boolean;
}

/** What the attempt leaves in HighLevel, written to the block's row. */
interface Outcome {
  blockSlotId: string | null;
  applied: { startTime: string; endTime: string; title: string } | null;
}

const gone = (err: unknown) => err instanceof AppError && err.code === "not_found";

/**
 * Brings each queued plan block in HighLevel to what the plan wants, with bulk's guarantees:
 * - a block is claimed only while `pending`, with a lease: a second queue entry for it backs off;
 * - `sent` is set before a create goes out; a block claimed again with `sent` set looks for its
 *   block in HighLevel first (only one this plan made), so the process dying never makes it twice;
 * - after each attempt the block is settled against what the plan wants *now*: a change or a
 *   delete that arrived meanwhile is applied next, by a new queue entry.
 */
export class PlanWorker {
  constructor(
    private readonly db: Db,
    private readonly slots: BlockSlotService,
    private readonly queue: JobQueue,
    private readonly log: Logger,
    /** How long a claim holds: the queue's job time-out. */
    private readonly leaseSeconds: number,
  ) {}

  start(options: WorkOptions): Promise<void> {
    return this.queue.workEach<PlanBlockRef>(QUEUES.planBlock, options, (block) => this.process(block), {
      log: this.log,
      message: "plan block will be retried",
    });
  }

  /** Throws to have the queue retry the block later. */
  async process(ref: PlanBlockRef): Promise<void> {
    const { planId, blockId } = ref;
    const sendBy = sendByForLease(this.leaseSeconds);
    const [block] = await this.db.$queryRaw<ClaimedBlock[]>`
      WITH before AS (
        SELECT sent FROM plan_blocks
        WHERE id = ${blockId}::uuid AND status = 'pending' AND (lease_until IS NULL OR lease_until < now())
        FOR UPDATE
      )
      UPDATE plan_blocks
      SET sent = plan_blocks.sent OR (wanted AND block_slot_id IS NULL),
          -- A create about to go out: what it sends is kept, so that after a crash and a change of
          -- the plan it is that block which is looked for, not the one the plan wants now.
          applied_start_time = CASE WHEN ${FIRST_SEND} THEN start_time ELSE applied_start_time END,
          applied_end_time = CASE WHEN ${FIRST_SEND} THEN end_time ELSE applied_end_time END,
          applied_title = CASE WHEN ${FIRST_SEND} THEN title ELSE applied_title END,
          started_at = coalesce(started_at, now()), updated_at = now(),
          lease_until = now() + make_interval(secs => ${this.leaseSeconds})
      FROM before
      WHERE id = ${blockId}::uuid
      RETURNING location_id, calendar_id, assigned_user_id, start_time, end_time, title, wanted, block_slot_id,
                applied_start_time, applied_end_time, applied_title, failures, before.sent AS was_sent`;
    if (!block) {
      // Settled, failed for good, or gone with its plan: nothing to do. Still pending: another
      // worker holds the lease (a slow run, or a dead one whose lease has not run out).
      const held = await this.db.planBlock.count({ where: { id: blockId, status: "pending" } });
      if (held > 0) throw new Error(`plan block ${planId}/${blockId} is held by another worker`);
      return;
    }

    const body: BlockSlotBody = {
      ...(block.calendar_id ? { calendarId: block.calendar_id } : { assignedUserId: block.assigned_user_id! }),
      startTime: block.start_time,
      endTime: block.end_time,
      title: block.title,
    };
    try {
      const outcome = await this.apply(ref, block, body, sendBy);
      await this.db.planBlock.update({
        where: { id: blockId },
        data: {
          blockSlotId: outcome.blockSlotId,
          appliedStartTime: outcome.applied?.startTime ?? null,
          appliedEndTime: outcome.applied?.endTime ?? null,
          appliedTitle: outcome.applied?.title ?? null,
          sent: false,
          errorCode: null,
          errorDetail: null,
          leaseUntil: null,
        },
      });
      // The plan may have changed while HighLevel was answering: then there is more to do.
      await settleOne(this.db, this.queue, ref);
    } catch (err) {
      await this.failed(ref, block, err);
    }
  }

  /** The one step this block needs, judged from the claimed row. */
  private async apply(ref: PlanBlockRef, block: ClaimedBlock, body: BlockSlotBody, sendBy: number): Promise<Outcome> {
    const origin = { origin: "plan", originId: ref.planId } as const;
    const actor = { kind: "plan", id: ref.planId } as const;
    const applied = { startTime: body.startTime, endTime: body.endTime, title: body.title ?? "" };
    const current: Outcome = {
      blockSlotId: block.block_slot_id,
      applied: block.block_slot_id
        ? { startTime: block.applied_start_time!, endTime: block.applied_end_time!, title: block.applied_title! }
        : null,
    };
    // With no block id, the row's applied fields are what the create in flight sent (the claim
    // wrote them); rows from before they were kept have none, and sent what the plan wants.
    const sent =
      block.applied_start_time && block.applied_end_time
        ? { startTime: block.applied_start_time, endTime: block.applied_end_time, title: block.applied_title ?? "" }
        : applied;
    const create = async (what: typeof applied, lookFirst: boolean): Promise<Outcome> => {
      const slot = await this.slots.create(
        block.location_id,
        { ...body, ...what },
        { origin, actor, lookFirst, onlyOwn: true, sendBy },
      );
      return { blockSlotId: slot.id, applied: what };
    };

    if (!block.wanted) {
      // A create went out and its answer was never recorded: the block it sent may exist.
      const id =
        block.block_slot_id ??
        (block.was_sent
          ? ((await this.slots.lookUp(block.location_id, { ...body, ...sent }, origin))?.id ?? null)
          : null);
      if (id) await this.slots.remove(block.location_id, id, actor).catch((err: unknown) => ignoreIf(gone(err), err));
      return { blockSlotId: null, applied: null };
    }
    // The create in flight is finished as it was sent: found in HighLevel (it went out before a
    // crash), or sent. Should the plan have changed since, the next attempt moves that block.
    if (!block.block_slot_id) return create(sent, block.was_sent);
    if (current.applied && sameTimes(current.applied, applied)) return current;
    try {
      await this.slots.update(block.location_id, block.block_slot_id, body, actor);
      return { blockSlotId: block.block_slot_id, applied };
    } catch (err) {
      if (!gone(err)) throw err;
      // Deleted by hand in HighLevel: the plan still wants it, so it is made again. The row says
      // first that a create is going out, so a crash right after is looked for, not repeated.
      await this.markSending(ref.blockId, applied);
      return create(applied, false);
    }
  }

  /** Before a create the claim did not mark: the row says it is going out, and with what. */
  private async markSending(blockId: string, body: { startTime: string; endTime: string; title: string }) {
    await this.db.planBlock.update({
      where: { id: blockId },
      data: {
        blockSlotId: null,
        appliedStartTime: body.startTime,
        appliedEndTime: body.endTime,
        appliedTitle: body.title,
        sent: true,
      },
    });
  }

  private async failed(ref: PlanBlockRef, block: ClaimedBlock, err: unknown): Promise<void> {
    const where = { id: ref.blockId };
    const wait = rateLimitWait(err);
    if (wait) {
      // Not a failure (src/jobs/rate-limited.ts): the location's budget is spent. Come back when it is not.
      await this.db.planBlock.update({ where, data: { leaseUntil: null } });
      await this.queue.send(QUEUES.planBlock, ref, { startAfter: wait.resumesAt });
      return;
    }
    const error = asAppError(err);
    const failures = block.failures + 1;
    const final = !error.retryable || failures >= MAX_FAILURES;
    // A bug fails the block once, loudly; repeating it would only hide it.
    if (error.code === "internal_error") this.log.error({ err, ...ref }, "plan block failed: a bug");
    await this.db.planBlock.update({
      where,
      data: {
        failures,
        errorCode: error.code,
        errorDetail: error.message,
        leaseUntil: null,
        ...(final ? { status: "failed" } : {}),
        // HighLevel refused the request itself: no block of this row exists, so a change of the
        // plan is sent as it is then, not by finishing the refused create first.
        ...(error.code === "invalid_request" ? { sent: false } : {}),
      },
    });
    if (!final) throw err;
    // A change or a delete that arrived while HighLevel refused is the user asking again: its own
    // queue entry found the block held, so it is settled here (a change after this sees `failed`).
    if (await this.changedSince(ref, block)) await settleOne(this.db, this.queue, ref);
  }

  /** Whether the plan wants something else of the block than what was claimed. */
  private async changedSince(ref: PlanBlockRef, block: ClaimedBlock): Promise<boolean> {
    const now = await this.db.planBlock.findUnique({
      where: { id: ref.blockId },
      select: { wanted: true, startTime: true, endTime: true, title: true },
    });
    return (
      now !== null &&
      (now.wanted !== block.wanted ||
        now.startTime !== block.start_time ||
        now.endTime !== block.end_time ||
        now.title !== block.title)
    );
  }
}

/** The same block in HighLevel's eyes: the same instants and title (an absent title is ""). */
const sameTimes = (a: { startTime: string; endTime: string; title?: string }, b: typeof a) =>
  a.startTime === b.startTime && a.endTime === b.endTime && (a.title ?? "") === (b.title ?? "");

function ignoreIf(condition: boolean, err: unknown): void {
  if (!condition) throw err;
}
