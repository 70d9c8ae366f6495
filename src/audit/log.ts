import type { Logger } from "pino";
import type { Principal } from "../auth/api-keys";
import { executeStatement, type Db } from "../db/client";
import { asAppError, databaseUnavailable } from "../errors";
import { Prisma, type AuditActorKind } from "../generated/prisma/client";

type Tx = Prisma.TransactionClient;

/** PostgreSQL's "ON CONFLICT DO UPDATE command cannot affect row a second time". */
const CARDINALITY_VIOLATION = "21000";

/** Who asked for a change. Names are for people reading the trail; ids are what filters match. */
export interface Actor {
  kind: AuditActorKind;
  id?: string | null;
  name?: string | null;
}

export type AuditAction =
  | "block.created"
  | "block.updated"
  | "block.deleted"
  | "plan.applied"
  | "plan.changed"
  | "plan.deleted"
  | "rule.created"
  | "rule.deleted"
  | "api_key.created"
  | "api_key.revoked"
  /** A location or an agency (no locationId on the record) installed, or uninstalled. */
  | "install"
  | "uninstall";

/** One change. Only ids and names: never a token, a key or a secret. */
export interface AuditEntry {
  action: AuditAction;
  actor: Actor;
  companyId?: string | null;
  locationId?: string | null;
  blockSlotId?: string | null;
  calendarId?: string | null;
  assignedUserId?: string | null;
  /** The app's own record concerned: a rule, plan, API key or install id. */
  subjectId?: string | null;
}

const row = (entry: AuditEntry, outcome: "ok" | "failed", errorCode?: string) => ({
  action: entry.action,
  actorKind: entry.actor.kind,
  actorId: entry.actor.id ?? null,
  actorName: entry.actor.name ?? null,
  companyId: entry.companyId ?? null,
  locationId: entry.locationId ?? null,
  blockSlotId: entry.blockSlotId ?? null,
  calendarId: entry.calendarId ?? null,
  assignedUserId: entry.assignedUserId ?? null,
  subjectId: entry.subjectId ?? null,
  outcome,
  errorCode: errorCode ?? null,
});

/** The principal of an API call as an actor (a bootstrap key's id is a digest prefix, not the key). */
export const actorOf = (principal: Principal): Actor => ({ kind: "api_key", id: principal.id, name: principal.name });

/**
 * The audit trail. A change's record is written where the change is known to have happened, in
 * the same transaction as the app's own row when there is one (`within`). A failure to write the
 * record never undoes or hides the change (DECISIONS #35): inside a transaction it is fenced by a
 * savepoint, outside one it is caught; either way it is logged as an error with the record.
 */
export class AuditLog {
  constructor(
    private readonly db: Db,
    private readonly log: Pick<Logger, "error">,
  ) {}

  /** Inside the caller's transaction: the record commits with the change's own row, or neither does. */
  async within(tx: Tx, entry: AuditEntry): Promise<void> {
    await this.fenced(tx, [entry], () => this.insert(tx, entry, "ok"));
  }

  /** Many records at once (an agency's locations), in one statement; each entry names its company. */
  async allWithin(tx: Tx, entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.fenced(tx, entries, () => tx.auditEvent.createMany({ data: entries.map((e) => row(e, "ok")) }));
  }

  private async fenced(tx: Tx, entries: AuditEntry[], write: () => Promise<unknown>): Promise<void> {
    await tx.$executeRawUnsafe("SAVEPOINT audit_event");
    try {
      await write();
      await tx.$executeRawUnsafe("RELEASE SAVEPOINT audit_event");
    } catch (err) {
      await tx.$executeRawUnsafe("ROLLBACK TO SAVEPOINT audit_event");
      for (const entry of entries) this.lost(entry, err);
    }
  }

  /**
   * A one-statement change of the app's own rows and its record, in one short transaction (sent
   * as a batch: no connection is held between statements). Should it fail, the change is made
   * alone and its record written after it, or logged as lost: what HighLevel already did must not
   * lose the app's row for want of its record. A change that fails by itself still fails.
   */
  async alongside(change: (db: Db) => Prisma.PrismaPromise<unknown>, entry: AuditEntry): Promise<void> {
    const complete = await this.withCompany(this.db, entry).catch(() => entry);
    try {
      await this.db.$transaction([change(this.db), this.db.auditEvent.create({ data: row(complete, "ok") })]);
    } catch {
      await change(this.db);
      await this.record(complete);
    }
  }

  /**
   * `alongside` in ONE statement, for many changes at once: `change` is an INSERT/UPDATE that
   * returns the `block_slot_id` of each block row it wrote, and the record of each entry naming
   * one of them is inserted from it (the location's company looked up in the same statement).
   * For the hot path, blocks made through the API: a transaction of separate statements costs a
   * round trip each (BEGIN, the change, the location, the record, COMMIT), and each round trip
   * wakes PostgreSQL; one statement is atomic on its own, and concurrent creates share it
   * (`BlockLedger`'s group commit).
   */
  async alongsideStatement(change: Prisma.Sql, entries: AuditEntry[], fallback: () => Promise<unknown>): Promise<void> {
    const rows = entries.map((e) => row(e, "ok"));
    const column = <K extends keyof ReturnType<typeof row>>(key: K) => rows.map((r) => r[key]);
    try {
      await executeStatement(
        this.db,
        Prisma.sql`
        WITH change AS (${change})
        INSERT INTO audit_events (action, actor_kind, actor_id, actor_name, company_id, location_id, block_slot_id,
                                  calendar_id, assigned_user_id, subject_id, outcome)
        SELECT e.action, e.actor_kind::"AuditActorKind", e.actor_id, e.actor_name,
               COALESCE(e.company_id, (SELECT company_id FROM locations WHERE id = e.location_id)),
               e.location_id, e.block_slot_id, e.calendar_id, e.assigned_user_id, e.subject_id, 'ok'
          FROM unnest(${column("action")}::text[], ${column("actorKind")}::text[], ${column("actorId")}::text[],
                      ${column("actorName")}::text[], ${column("companyId")}::text[], ${column("locationId")}::text[],
                      ${column("blockSlotId")}::text[], ${column("calendarId")}::text[],
                      ${column("assignedUserId")}::text[], ${column("subjectId")}::text[])
            AS e(action, actor_kind, actor_id, actor_name, company_id, location_id, block_slot_id, calendar_id,
                 assigned_user_id, subject_id)
          JOIN change c ON c.block_slot_id = e.block_slot_id`,
      );
    } catch (err) {
      // The same row twice in one statement is expected now and then (two retries finding one
      // block); anything else but a database that is down is a bug the fallback would hide.
      if ((err as { code?: unknown }).code !== CARDINALITY_VIOLATION && !databaseUnavailable(err)) {
        this.log.error({ err, entries: entries.length }, "audited statement failed; changes made one by one");
      }
      // As `alongside`: the changes are made whatever becomes of their records.
      await fallback();
      for (const entry of entries) await this.record(entry);
    }
  }

  /** A change with no row of the app's own to commit with (or one already committed). */
  async record(entry: AuditEntry): Promise<void> {
    await this.insert(this.db, entry, "ok").catch((err: unknown) => this.lost(entry, err));
  }

  /** An attempted change that failed for good: recorded with the error's code, never its message. */
  async failed(entry: AuditEntry, error: unknown): Promise<void> {
    const code = asAppError(error).code;
    await this.insert(this.db, entry, "failed", code).catch((err: unknown) => this.lost(entry, err));
  }

  private async insert(db: Tx | Db, entry: AuditEntry, outcome: "ok" | "failed", errorCode?: string): Promise<void> {
    await db.auditEvent.create({ data: row(await this.withCompany(db, entry), outcome, errorCode) });
  }

  /** The entry with its location's company, from the locations table when the caller did not know it. */
  private async withCompany(db: Tx | Db, entry: AuditEntry): Promise<AuditEntry> {
    if (entry.companyId || !entry.locationId) return entry;
    const location = await db.location.findUnique({ where: { id: entry.locationId }, select: { companyId: true } });
    return { ...entry, companyId: location?.companyId ?? null };
  }

  private lost(entry: AuditEntry, err: unknown): void {
    this.log.error({ err, audit: entry }, "audit record not written; the change itself stands");
  }
}
