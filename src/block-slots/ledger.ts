import type { Actor, AuditLog } from "../audit/log";
import type { Db } from "../db/client";
import { Prisma, type BlockOrigin } from "../generated/prisma/client";
import type { BlockSlot } from "../highlevel/calendars";
import type { BlockSlotBody } from "./schemas";

/** Who made a block: the kind of caller, and the job, rule or plan behind it. */
export interface Origin {
  origin: BlockOrigin;
  originId?: string;
}

export interface LedgerEntry {
  blockSlotId: string;
  locationId: string;
  calendarId: string | null;
  assignedUserId: string | null;
  startAt: Date;
  endAt: Date;
  title: string;
  origin: BlockOrigin;
  originId: string | null;
}

/** What a block is, for matching: its place, its instants and its title (an absent title is ""). */
const identity = (locationId: string, body: BlockSlotBody) => ({
  locationId,
  calendarId: body.calendarId ?? null,
  assignedUserId: body.calendarId ? null : (body.assignedUserId ?? null),
  startAt: new Date(body.startTime),
  endAt: new Date(body.endTime),
  title: body.title ?? "",
});

/** Where a block is, for its audit record. */
const place = (locationId: string, blockSlotId: string, body: BlockSlotBody) => ({
  locationId,
  blockSlotId,
  calendarId: body.calendarId ?? null,
  assignedUserId: body.calendarId ? null : (body.assignedUserId ?? null),
});

/**
 * Every block slot this app made, recorded when HighLevel confirms it, whatever made it. A block
 * made but not recorded (the process died in between) is still found in HighLevel by the caller's
 * look-before-resend, and recorded then. Each change made on someone's behalf is written to the
 * audit trail in the same transaction as its ledger row.
 */
export class BlockLedger {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
  ) {}

  async record(locationId: string, slot: BlockSlot, body: BlockSlotBody, origin: Origin, actor: Actor): Promise<void> {
    const id = identity(locationId, body);
    const fields = { ...id, origin: origin.origin, originId: origin.originId ?? null };
    // Every block the app makes passes here: one statement for the row and its audit record.
    // Timestamps without a zone are kept in UTC, as Prisma writes them.
    const upsert = Prisma.sql`
      INSERT INTO blocks (id, block_slot_id, location_id, calendar_id, assigned_user_id, start_at, end_at, title,
                          origin, origin_id, created_at, updated_at)
      VALUES (gen_random_uuid(), ${slot.id}, ${id.locationId}, ${id.calendarId}, ${id.assignedUserId},
              ${id.startAt}, ${id.endAt}, ${id.title}, ${fields.origin}::"BlockOrigin", ${fields.originId},
              now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
      ON CONFLICT (block_slot_id) DO UPDATE SET
        location_id = EXCLUDED.location_id, calendar_id = EXCLUDED.calendar_id,
        assigned_user_id = EXCLUDED.assigned_user_id, start_at = EXCLUDED.start_at, end_at = EXCLUDED.end_at,
        title = EXCLUDED.title, deleted_at = NULL, updated_at = now() AT TIME ZONE 'UTC'
      RETURNING 1`;
    await this.audit.alongsideStatement(
      upsert,
      { action: "block.created", actor, ...place(locationId, slot.id, body) },
      () =>
        this.db.block.upsert({
          where: { blockSlotId: slot.id },
          create: { blockSlotId: slot.id, ...fields },
          update: { ...id, deletedAt: null },
        }),
    );
  }

  /** A block of ours in this location with this HighLevel id, deleted or not. */
  find(locationId: string, blockSlotId: string): Promise<LedgerEntry | null> {
    return this.db.block.findFirst({ where: { locationId, blockSlotId } });
  }

  /** Live blocks of ours equal to `body` (same place, instants and title), newest first. */
  findEqual(locationId: string, body: BlockSlotBody): Promise<LedgerEntry[]> {
    return this.db.block.findMany({
      where: { ...identity(locationId, body), deletedAt: null },
      orderBy: { createdAt: "desc" },
      take: 5,
    });
  }

  async moved(blockSlotId: string, locationId: string, body: BlockSlotBody, actor: Actor): Promise<void> {
    await this.audit.alongside(
      (db) => db.block.updateMany({ where: { blockSlotId }, data: identity(locationId, body) }),
      { action: "block.updated", actor, ...place(locationId, blockSlotId, body) },
    );
  }

  /** `actor`: the app deleted it on their behalf (audited); absent: found already gone from HighLevel. */
  async deleted(blockSlotId: string, actor?: { actor: Actor; locationId: string }): Promise<void> {
    const where = { blockSlotId, deletedAt: null };
    const data = { deletedAt: new Date() };
    if (!actor) {
      await this.db.block.updateMany({ where, data });
      return;
    }
    const entry = await this.find(actor.locationId, blockSlotId);
    await this.audit.alongside((db) => db.block.updateMany({ where, data }), {
      action: "block.deleted",
      actor: actor.actor,
      locationId: actor.locationId,
      blockSlotId,
      calendarId: entry?.calendarId ?? null,
      assignedUserId: entry?.assignedUserId ?? null,
    });
  }
}
