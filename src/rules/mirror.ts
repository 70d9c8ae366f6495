import type { Logger } from "pino";
import { isoWithOffset, type BlockSlotBody } from "../block-slots/schemas";
import type { BlockSlotService } from "../block-slots/service";
import type { Db } from "../db/client";
import type { MirroredBlock, WebhookEvent } from "../generated/prisma/client";
import { asAppError } from "../errors";
import { sendByForLease } from "../jobs/queue";
import { RetryLater, type HandlerResult, type WebhookHandler } from "../webhooks/processor";
import { MIRRORED_TYPES, readAppointment, type Appointment } from "./appointment";
import { toRule, type BlockingRule } from "./service";
import type { RuleEndpoint } from "./schemas";

/** How long one delivery may hold an appointment; a dead worker's hold runs out after this. */
const LEASE_SECONDS = 120;

// The console names the delivery's location beside this.
const UNWATCHED: HandlerResult = { status: "ignored", outcome: "No blocking rule watches this location." };

/** Where a block goes: a rule's target, or a stored mirror (whose ids may be null). */
interface Target {
  locationId: string;
  calendarId?: string | null;
  assignedUserId?: string | null;
}

const watches = (source: RuleEndpoint, a: Appointment) =>
  source.locationId === a.locationId &&
  (source.calendarId ? source.calendarId === a.calendarId : source.assignedUserId === a.assignedUserId);

/**
 * Appointment webhooks → block slots on every target of every matching rule. What was made is
 * remembered per (appointment, rule, target), so a repeated or late delivery changes nothing, a
 * move moves the blocks, and a cancellation deletes them — across restarts.
 */
export class AppointmentMirror {
  constructor(
    private readonly db: Db,
    private readonly slots: BlockSlotService,
    private readonly log: Logger,
  ) {}

  handlers(): Record<string, WebhookHandler> {
    const handle = (event: WebhookEvent) => this.handle(event);
    return Object.fromEntries([...MIRRORED_TYPES].map((type) => [type, handle]));
  }

  async handle(event: WebhookEvent): Promise<HandlerResult> {
    const appt = readAppointment(event);
    if (!appt) return { status: "ignored", outcome: "No appointment id or location in the delivery." };
    // Most appointments concern no rule: one statement instead of the lease, the rules and the mirrors.
    if (!(await this.watchedAmong([appt])).has(appt.id)) return UNWATCHED;
    // A block this app made (by a rule, or through the API, a bulk job, a plan, the page) is not an
    // appointment: mirroring it would loop, or spread one block to every target.
    const [mirrored, made] = await Promise.all([
      this.db.mirroredBlock.findFirst({ where: { blockSlotId: appt.id }, select: { appointmentId: true } }),
      this.db.block.findUnique({ where: { blockSlotId: appt.id }, select: { id: true } }),
    ]);
    if (mirrored || made) return { status: "ignored", outcome: `${appt.id} is a block this app made.` };
    const state = await this.claim(appt);
    if (!state) throw new RetryLater(`Another delivery for appointment ${appt.id} is being applied.`);
    let applied = false;
    try {
      // This very delivery was applied and its outcome not yet written (a crash, a batch retried).
      if (state.appliedEventId === event.id) {
        return { status: "ignored", outcome: "This delivery for this appointment was already applied." };
      }
      // A later change of the appointment was applied: this older state would undo it. (Rows from
      // before versions were kept compare receipt times.)
      const newer = state.appliedVersion
        ? state.appliedVersion > appt.version
        : state.appliedAt !== null && state.appliedAt > event.receivedAt;
      if (newer) return { status: "ignored", outcome: "A later delivery for this appointment was already applied." };
      const work = { ...appt, sendBy: sendByForLease(LEASE_SECONDS) };
      const outcome = work.freed ? await this.free(work) : await this.follow(work);
      applied = true;
      return { status: "processed", outcome };
    } finally {
      await this.db.appointmentState.update({
        where: { id: appt.id },
        data: {
          leaseUntil: null,
          ...(applied
            ? {
                appliedAt: event.receivedAt,
                appliedEventId: event.id,
                appliedVersion: appt.version,
                cancelled: appt.freed,
                ...(appt.endsAt ? { endsAt: appt.endsAt } : {}),
              }
            : {}),
        },
      });
    }
  }

  /**
   * Settles in one statement the deliveries of a batch whose appointment no rule watches (see
   * `watchedAmong`); the processor hands the rest to `handle` one by one.
   */
  async settleUnwatched(events: WebhookEvent[]): Promise<Map<string, HandlerResult>> {
    const mine = events.flatMap((event) => {
      const appt = MIRRORED_TYPES.has(event.type) ? readAppointment(event) : undefined;
      return appt ? [{ appt, event }] : [];
    });
    const settled = new Map<string, HandlerResult>();
    if (mine.length === 0) return settled;
    const watched = await this.watchedAmong(mine.map((m) => m.appt));
    for (const { appt, event } of mine) {
      if (!watched.has(appt.id)) settled.set(event.id, UNWATCHED);
    }
    return settled;
  }

  /**
   * The appointments a rule watches (its location is a rule's source) or that a mirrored block
   * belongs to (or is): they need the full work. The others leave no trace — most appointments
   * concern no rule, and a row for each would grow without end. What that gives up: for an
   * appointment nobody watched, the receipt time of its last delivery is not kept, so should a
   * rule appear between the work of a newer delivery and that of an older one (delayed by
   * retries), the older one is applied as if it were the latest and may block stale times.
   */
  private async watchedAmong(appts: Appointment[]): Promise<Set<string>> {
    const rows = await this.db.$queryRaw<{ id: string }[]>`
      SELECT DISTINCT i.id
        FROM unnest(${appts.map((a) => a.id)}::text[], ${appts.map((a) => a.locationId)}::text[]) AS i(id, location_id)
       WHERE EXISTS (SELECT 1 FROM blocking_rules r WHERE r.source_location_id = i.location_id)
          OR EXISTS (SELECT 1 FROM mirrored_blocks m WHERE m.appointment_id = i.id OR m.block_slot_id = i.id)`;
    return new Set(rows.map((r) => r.id));
  }

  /** Holds the appointment for this delivery; undefined while another delivery holds it. */
  private async claim(appt: Appointment) {
    const rows = await this.db.$queryRaw<
      { applied_at: Date | null; applied_event_id: string | null; applied_version: Date | null }[]
    >`
      INSERT INTO appointment_states (id, location_id, lease_until, ends_at, updated_at)
      VALUES (${appt.id}, ${appt.locationId}, now() + make_interval(secs => ${LEASE_SECONDS}), ${appt.endsAt ?? null}, now())
      ON CONFLICT (id) DO UPDATE SET lease_until = EXCLUDED.lease_until, updated_at = now()
        WHERE appointment_states.lease_until IS NULL OR appointment_states.lease_until < now()
      RETURNING applied_at, applied_event_id, applied_version`;
    const row = rows[0];
    return row
      ? { appliedAt: row.applied_at, appliedEventId: row.applied_event_id, appliedVersion: row.applied_version }
      : undefined;
  }

  /** Cancelled or deleted: every block it caused goes. */
  private async free(appt: Appointment): Promise<string> {
    const mirrors = await this.db.mirroredBlock.findMany({
      where: { appointmentId: appt.id, status: { in: ["active", "creating"] } },
    });
    for (const m of mirrors) await this.removeBlock(m);
    return `Appointment ${appt.id} freed: ${mirrors.length} block(s) deleted.`;
  }

  /** Booked or moved: a block on every target of every matching rule, at the appointment's times. */
  private async follow(appt: Appointment): Promise<string> {
    if (!isoWithOffset.safeParse(appt.startTime).success || !isoWithOffset.safeParse(appt.endTime).success) {
      return `Appointment ${appt.id} has no usable start and end time; nothing blocked.`;
    }
    const [allRules, mirrors, source] = await Promise.all([
      this.db.blockingRule.findMany({ where: { sourceLocationId: appt.locationId } }),
      this.db.mirroredBlock.findMany({ where: { appointmentId: appt.id } }),
      this.db.location.findUnique({ where: { id: appt.locationId }, select: { name: true } }),
    ]);
    const rules = allRules.map(toRule).filter((rule) => watches(rule.source, appt));
    const why = `Busy: appointment at ${source?.name ?? appt.locationId}`;
    const counts = { created: 0, moved: 0, unchanged: 0, removed: 0, failed: 0 };

    for (const rule of rules) {
      for (const [index, target] of rule.targets.entries()) {
        const existing = mirrors.find((m) => m.ruleId === rule.id && m.targetIndex === index);
        const result = await this.place(appt, rule, index, target, existing, rule.title ?? why);
        counts[result] += 1;
      }
    }
    // Blocks whose rule still exists but no longer watches this appointment (it moved to another calendar).
    const ruleIds = new Set(rules.map((r) => r.id));
    const orphans = mirrors.filter((m) => m.status === "active" && !ruleIds.has(m.ruleId));
    const stillRules = new Set(
      orphans.length === 0
        ? []
        : (
            await this.db.blockingRule.findMany({
              where: { id: { in: orphans.map((m) => m.ruleId) } },
              select: { id: true },
            })
          ).map((r) => r.id),
    );
    for (const m of orphans) {
      if (stillRules.has(m.ruleId)) {
        await this.removeBlock(m);
        counts.removed += 1;
      } else {
        // The rule was deleted: its block keeps following the appointment.
        counts[await this.place(appt, undefined, m.targetIndex, m, m, m.title)] += 1;
      }
    }
    return `Appointment ${appt.id}: ${counts.created} created, ${counts.moved} moved, ${counts.unchanged} unchanged, ${counts.removed} removed, ${counts.failed} failed.`;
  }

  private async place(
    appt: Appointment,
    rule: BlockingRule | undefined,
    targetIndex: number,
    target: Target,
    existing: MirroredBlock | undefined,
    title: string,
  ): Promise<"created" | "moved" | "unchanged" | "failed"> {
    const body: BlockSlotBody = {
      ...(target.calendarId ? { calendarId: target.calendarId } : { assignedUserId: target.assignedUserId! }),
      startTime: appt.startTime!,
      endTime: appt.endTime!,
      title,
    };
    const key = { appointmentId: appt.id, ruleId: existing?.ruleId ?? rule!.id, targetIndex };
    const where = { appointmentId_ruleId_targetIndex: key };
    try {
      if (existing?.status === "active" && existing.blockSlotId) {
        if (existing.startTime === body.startTime && existing.endTime === body.endTime) return "unchanged";
        await this.slots.update(target.locationId, existing.blockSlotId, body, { kind: "rule", id: key.ruleId });
        await this.db.mirroredBlock.update({
          where,
          data: { startTime: body.startTime, endTime: body.endTime, lastError: null },
        });
        return "moved";
      }
      // Written before the create goes out: a retry that finds it `creating` looks in HighLevel first.
      const lookFirst = existing?.status === "creating";
      await this.db.mirroredBlock.upsert({
        where,
        create: {
          ...key,
          locationId: target.locationId,
          calendarId: target.calendarId ?? null,
          assignedUserId: target.assignedUserId ?? null,
          title,
          startTime: body.startTime,
          endTime: body.endTime,
        },
        // An earlier block of this row was deleted: its id must not stand for the one being made.
        update: { status: "creating", blockSlotId: null, startTime: body.startTime, endTime: body.endTime, title },
      });
      const slot = await this.slots.create(target.locationId, body, {
        lookFirst,
        ...(appt.sendBy ? { sendBy: appt.sendBy } : {}),
        origin: { origin: "rule", originId: key.ruleId },
        actor: { kind: "rule", id: key.ruleId, name: rule?.name ?? null },
      });
      await this.db.mirroredBlock.update({ where, data: { status: "active", blockSlotId: slot.id, lastError: null } });
      return "created";
    } catch (err) {
      const error = asAppError(err);
      if (error.retryable) throw err;
      this.log.warn(
        {
          appointmentId: appt.id,
          locationId: target.locationId,
          code: error.code,
          ...(error.code === "internal_error" ? { err } : {}),
        },
        "mirrored block failed",
      );
      await this.db.mirroredBlock.updateMany({
        where: key,
        data: {
          lastError: `${error.code}: ${error.message}`,
          ...(existing?.status === "active" ? {} : { status: "failed" }),
        },
      });
      return "failed";
    }
  }

  private async removeBlock(m: MirroredBlock): Promise<void> {
    const where = {
      appointmentId_ruleId_targetIndex: {
        appointmentId: m.appointmentId,
        ruleId: m.ruleId,
        targetIndex: m.targetIndex,
      },
    };
    let blockSlotId = m.status === "active" ? m.blockSlotId : null;
    if (m.status === "creating") {
      // Its create may have reached HighLevel with the answer lost (a crash, a time-out): look, or
      // the block would stay once its appointment is gone.
      const body: BlockSlotBody = {
        ...(m.calendarId ? { calendarId: m.calendarId } : { assignedUserId: m.assignedUserId! }),
        startTime: m.startTime,
        endTime: m.endTime,
        title: m.title,
      };
      blockSlotId = (await this.slots.lookUp(m.locationId, body, { origin: "rule", originId: m.ruleId }))?.id ?? null;
    }
    if (blockSlotId) {
      try {
        await this.slots.remove(m.locationId, blockSlotId, { kind: "rule", id: m.ruleId });
      } catch (err) {
        const error = asAppError(err);
        // Already gone in HighLevel (deleted by hand): the goal is reached.
        if (error.code !== "not_found") {
          if (error.retryable) throw err;
          await this.db.mirroredBlock.update({ where, data: { lastError: `${error.code}: ${error.message}` } });
          return;
        }
      }
    }
    await this.db.mirroredBlock.update({ where, data: { status: "deleted", lastError: null } });
  }
}
