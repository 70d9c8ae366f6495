import type { Actor, AuditLog } from "../audit/log";
import type { Db } from "../db/client";
import { Prisma, type BlockOrigin } from "../generated/prisma/client";
import type { BlockSlot } from "../highlevel/calendars";
import { databaseUnavailable } from "../errors";
import { GroupCommit } from "../util/concurrency";
import type { BlockSlotBody } from "./schemas";

/** A block HighLevel made, waiting to be recorded. */
interface Made {
  locationId: string;
  slot: BlockSlot;
  body: BlockSlotBody;
  origin: Origin;
  actor: Actor;
}

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
  /**
   * Blocks made at the same moment share one statement (group commit): under load a round trip
   * to PostgreSQL per create was half the app's CPU. One block alone goes at once.
   */
  private readonly made = new GroupCommit<Made, void>((batch) => this.recordAll(batch), {
    maxBatch: 200,
    // A batch fails only when its one-by-one fallback did too: then each block is tried on its
    // own (one bad block must not fail the others), unless the database is down (each would fail).
    split: (err) => !databaseUnavailable(err),
  });

  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
  ) {}

  /** Records a block HighLevel made (or one found made), with its audit record. */
  record(locationId: string, slot: BlockSlot, body: BlockSlotBody, origin: Origin, actor: Actor): Promise<void> {
    return this.made.add({ locationId, slot, body, origin, actor });
  }

  private async recordAll(batch: Made[]): Promise<void[]> {
    const rows = batch.map((m) => ({
      blockSlotId: m.slot.id,
      ...identity(m.locationId, m.body),
      origin: m.origin.origin,
      originId: m.origin.originId ?? null,
    }));
    const column = <K extends keyof (typeof rows)[number]>(key: K) => rows.map((r) => r[key]);
    // Instants as ISO text: node-postgres would write Dates inside an array in the server's own zone.
    const instants = (key: "startAt" | "endAt") => rows.map((r) => r[key].toISOString());
    // Timestamps without a zone are kept in UTC, as Prisma writes them (a `Z` is ignored on input).
    const upsert = Prisma.sql`
      INSERT INTO blocks (id, block_slot_id, location_id, calendar_id, assigned_user_id, start_at, end_at, title,
                          origin, origin_id, created_at, updated_at)
      SELECT gen_random_uuid(), b.block_slot_id, b.location_id, b.calendar_id, b.assigned_user_id, b.start_at,
             b.end_at, b.title, b.origin::"BlockOrigin", b.origin_id, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
        FROM unnest(${column("blockSlotId")}::text[], ${column("locationId")}::text[], ${column("calendarId")}::text[],
                    ${column("assignedUserId")}::text[], ${instants("startAt")}::timestamp(3)[],
                    ${instants("endAt")}::timestamp(3)[], ${column("title")}::text[], ${column("origin")}::text[],
                    ${column("originId")}::text[])
          AS b(block_slot_id, location_id, calendar_id, assigned_user_id, start_at, end_at, title, origin, origin_id)
      ON CONFLICT (block_slot_id) DO UPDATE SET
        location_id = EXCLUDED.location_id, calendar_id = EXCLUDED.calendar_id,
        assigned_user_id = EXCLUDED.assigned_user_id, start_at = EXCLUDED.start_at, end_at = EXCLUDED.end_at,
        title = EXCLUDED.title, deleted_at = NULL, updated_at = now() AT TIME ZONE 'UTC'
      RETURNING block_slot_id`;
    const entries = batch.map(
      (m) => ({ action: "block.created", actor: m.actor, ...place(m.locationId, m.slot.id, m.body) }) as const,
    );
    await this.audit.alongsideStatement(upsert, entries, async () => {
      // As the statement's ON CONFLICT: a block recorded again keeps its first origin.
      for (const { blockSlotId, origin, originId, ...id } of rows) {
        await this.db.block.upsert({
          where: { blockSlotId },
          create: { blockSlotId, origin, originId, ...id },
          update: { ...id, deletedAt: null },
        });
      }
    });
    return batch.map(() => undefined);
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
  /** Marks the location's block deleted; with `actor`, the deletion is audited as theirs. */
  async deleted(blockSlotId: string, by: { locationId: string; actor?: Actor }): Promise<void> {
    // Of this location only: another location's id must never mark its block deleted.
    const where = { blockSlotId, locationId: by.locationId, deletedAt: null };
    const data = { deletedAt: new Date() };
    const actor = by.actor ? { actor: by.actor, locationId: by.locationId } : undefined;
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
