import { setTimeout as sleep } from "node:timers/promises";
import type { Actor, AuditEntry, AuditLog } from "../audit/log";
import { AppError, isRetryable } from "../errors";
import { isAppointment, type BlockSlot, type CalendarEvent, type HighLevelCalendars } from "../highlevel/calendars";
import { HighLevelApiError, HighLevelUnreachableError, MissingScopeError } from "../highlevel/errors";
import { retryTransient, waitOutRateLimit } from "../highlevel/rate-limit";
import type { CalendarNames } from "../locations/calendar-names";
import type { TokenService } from "../tokens/service";
import type { BlockLedger, Origin } from "./ledger";
import type { BlockSlotBody, BlockSlotListQuery } from "./schemas";

/** A rate-limit wait longer than this is not waited out: the caller gets 429 with Retry-After. */
const MAX_RATE_LIMIT_WAIT_MS = 10_000;
/** Re-sends of a create whose outcome was unknown and that was not found in HighLevel. */
const CREATE_RESENDS = 2;

/** The request may have reached HighLevel and been acted on, and we cannot tell from the answer. */
const outcomeUnknown = (err: unknown) =>
  (err instanceof HighLevelUnreachableError && err.requestSent) ||
  (err instanceof HighLevelApiError && (err.status ?? 0) >= 500);

const sameInstant = (a: string | undefined, b: string) => a !== undefined && Date.parse(a) === Date.parse(b);

/** The block HighLevel would have made from `body`: same calendar or user, same times, same title. */
export function matchesBody(slot: BlockSlot, body: BlockSlotBody): boolean {
  return (
    sameInstant(slot.startTime, body.startTime) &&
    sameInstant(slot.endTime, body.endTime) &&
    (slot.title ?? "") === (body.title ?? "") &&
    (body.calendarId ? slot.calendarId === body.calendarId : slot.assignedUserId === body.assignedUserId)
  );
}

/** The calendar or user a block is on, for its audit record. */
const where = (body: BlockSlotBody) =>
  body.calendarId ? { calendarId: body.calendarId } : { assignedUserId: body.assignedUserId ?? null };

const noSuchBlock = (locationId: string, eventId: string) =>
  new AppError("not_found", `There is no block slot ${eventId} in location ${locationId}.`);

/**
 * HighLevel's 401, 403 and 404 about one event all mean "not here for you": one answer, which does
 * not tell whether another tenant's event exists. Final: never retried.
 */
function eventRefused(err: unknown, locationId: string, eventId: string): unknown {
  // A scope the install lacks is not about the event: the caller is told to reinstall.
  if (err instanceof MissingScopeError) return err;
  if (err instanceof HighLevelApiError && [401, 403, 404].includes(err.status ?? 0)) {
    return noSuchBlock(locationId, eventId);
  }
  return err;
}

export interface CreateOptions {
  /** Who is making it: recorded in the ledger of blocks the app made. */
  origin: Origin;
  /** Who asked for it: recorded in the audit trail. */
  actor: Actor;
  /** An earlier attempt of this same create may have succeeded (idempotent retry, job resumed): look first. */
  lookFirst?: boolean;
  /**
   * Looking first adopts only a block this same origin made (or one missing from the ledger): an
   * equal block of another plan stays that plan's, so deleting one plan never deletes another's.
   */
  onlyOwn?: boolean;
  /**
   * Queued work: the latest moment (epoch ms) the create may be sent, inside the lease the worker
   * holds on its item. Waits (rate limit, retries) that run past it send nothing and end as
   * `rate_limited`, so the item is put back rather than sent by two workers.
   */
  sendBy?: number;
}

/** Block slots for one location, with that location's token, through the one HighLevel client. */
export class BlockSlotService {
  constructor(
    private readonly tokens: TokenService,
    private readonly highlevel: HighLevelCalendars,
    private readonly ledger: BlockLedger,
    private readonly audit: AuditLog,
    /** Where the calendars' names are kept for the console's pages. */
    private readonly names: CalendarNames,
    /** Told of each block HighLevel made on a create this service sent (metrics). */
    private readonly onCreated: (origin: Origin["origin"]) => void = () => {},
  ) {}

  /**
   * An attempt that failed for good goes to the audit trail with its code. A retryable failure
   * is not recorded: the caller (a client, a job) tries again, and the outcome is recorded then.
   */
  private async attempt<T>(entry: AuditEntry, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (!isRetryable(err)) await this.audit.failed(entry, err);
      throw err;
    }
  }

  /**
   * `safe`: the operation can be sent again without a second effect (list, edit to the same
   * body, delete), so 5xx and lost answers are retried. A create is not: see `create`.
   */
  private call<T>(locationId: string, safe: boolean, fn: (token: string) => Promise<T>): Promise<T> {
    const once = (token: string) => waitOutRateLimit(() => fn(token), { maxWaitMs: MAX_RATE_LIMIT_WAIT_MS });
    return this.tokens.withAccessToken(locationId, (token) => (safe ? retryTransient(() => once(token)) : once(token)));
  }

  /**
   * HighLevel has no idempotency key, so a blind re-send after a lost answer could block the
   * time twice. When the outcome is unknown, the window is searched for the block first and it
   * is sent again only when it is not there. What is made goes into the ledger.
   */
  async create(locationId: string, body: BlockSlotBody, options: CreateOptions): Promise<BlockSlot> {
    const entry = { action: "block.created", actor: options.actor, locationId, ...where(body) } as const;
    const { slot, made } = await this.attempt(entry, () => this.send(locationId, body, options));
    await this.ledger.record(locationId, slot, body, options.origin, options.actor);
    // Counted when HighLevel answers a create: one found after a lost answer was made by an
    // earlier attempt and is not counted again (that attempt's count may have been lost with it).
    if (made) this.onCreated(options.origin.origin);
    return slot;
  }

  /** `made`: HighLevel made it now; otherwise an earlier attempt's block was found. */
  private send(
    locationId: string,
    body: BlockSlotBody,
    options: CreateOptions,
  ): Promise<{ slot: BlockSlot; made: boolean }> {
    // Outside the attempt: a 429 or a 401 restarts it, and it must still look before sending.
    let uncertain = options.lookFirst ?? false;
    return this.call(locationId, false, async (token) => {
      for (let resend = 0; ; resend++) {
        if (uncertain) {
          const found = await this.find(token, locationId, body, options.onlyOwn ? options.origin : undefined);
          if (found) return { slot: found, made: false };
        }
        try {
          return {
            slot: await this.highlevel.createBlockSlot(token, { ...body, locationId }, options.sendBy),
            made: true,
          };
        } catch (err) {
          if (!outcomeUnknown(err)) throw err;
          uncertain = true;
          if (resend >= CREATE_RESENDS) throw err;
          await sleep(300 * (resend + 1));
        }
      }
    });
  }

  /**
   * A block this app already made that equals `body` and still exists in HighLevel, if any: what a
   * second submission of the same block gets instead of a copy. Ledger entries whose block is gone
   * from HighLevel (deleted by hand) are marked deleted.
   */
  async existing(locationId: string, body: BlockSlotBody): Promise<BlockSlot | undefined> {
    const ours = await this.ledger.findEqual(locationId, body);
    if (ours.length === 0) return undefined;
    const ids = new Set(ours.map((entry) => entry.blockSlotId));
    const inHighLevel = await this.call(locationId, true, (token) => this.findAll(token, locationId, body));
    const alive = inHighLevel.find((slot) => ids.has(slot.id));
    for (const entry of ours) {
      if (!inHighLevel.some((slot) => slot.id === entry.blockSlotId)) {
        await this.ledger.deleted(entry.blockSlotId, { locationId });
      }
    }
    return alive;
  }

  /** The block `body` describes, if HighLevel has it (listing is safe, so it is retried); `owner`: made by it. */
  private async find(
    token: string,
    locationId: string,
    body: BlockSlotBody,
    owner?: Origin,
  ): Promise<BlockSlot | undefined> {
    for (const slot of await this.findAll(token, locationId, body)) {
      if (!owner) return slot;
      const entry = await this.ledger.find(locationId, slot.id);
      if (!entry || (entry.origin === owner.origin && entry.originId === (owner.originId ?? null))) return slot;
    }
    return undefined;
  }

  /** A block equal to `body` that `owner` made (or that no one recorded), if HighLevel has it. */
  lookUp(locationId: string, body: BlockSlotBody, owner: Origin): Promise<BlockSlot | undefined> {
    return this.call(locationId, true, (token) => this.find(token, locationId, body, owner));
  }

  private async findAll(token: string, locationId: string, body: BlockSlotBody): Promise<BlockSlot[]> {
    const events = await this.blockedSlots(token, locationId, body);
    return events.filter((slot) => matchesBody(slot, body));
  }

  /** HighLevel's block slots of one calendar or user in a window (listing is safe, so it is retried). */
  private async blockedSlots(
    token: string,
    locationId: string,
    whose: { calendarId?: string | null; assignedUserId?: string | null; startTime: string; endTime: string },
  ): Promise<BlockSlot[]> {
    const { events } = await retryTransient(() =>
      this.highlevel.listBlockedSlots(token, {
        locationId,
        ...(whose.calendarId ? { calendarId: whose.calendarId } : { userId: whose.assignedUserId ?? undefined }),
        startTime: Date.parse(whose.startTime),
        endTime: Date.parse(whose.endTime),
      }),
    );
    return events;
  }

  /**
   * Refuses anything that is not a block slot: HighLevel's event routes edit and delete customers'
   * appointments just as readily. A block in the ledger is ours; any other id is looked up first,
   * and must be proven a block: not marked as an appointment (no contact, no status) is not proof
   * enough (an appointment synced from elsewhere may carry neither), so HighLevel's list of block
   * slots for the event's calendar or user and hours must hold it.
   */
  private async assertBlock(token: string, locationId: string, eventId: string): Promise<void> {
    if (await this.ledger.find(locationId, eventId)) return;
    // HighLevel's refusals are mapped by the caller, after a 401 has had its one token renewal.
    const event = await retryTransient(() => this.highlevel.getEvent(token, locationId, eventId));
    if (!event || (event.locationId && event.locationId !== locationId)) throw noSuchBlock(locationId, eventId);
    if (isAppointment(event)) {
      throw new AppError(
        "not_a_block_slot",
        `Event ${eventId} is an appointment, not a block slot. Block-slot routes never edit or delete appointments.`,
      );
    }
    if (!(await this.listedAsBlock(token, locationId, event))) {
      throw new AppError(
        "not_a_block_slot",
        `Event ${eventId} is not among HighLevel's block slots. Block-slot routes only edit and delete block slots.`,
      );
    }
  }

  /** Whether HighLevel lists the event among the block slots of its calendar or user, in its hours. */
  private async listedAsBlock(token: string, locationId: string, event: CalendarEvent): Promise<boolean> {
    const timed = Number.isFinite(Date.parse(event.startTime)) && Number.isFinite(Date.parse(event.endTime));
    if ((!event.calendarId && !event.assignedUserId) || !timed) return false;
    return (await this.blockedSlots(token, locationId, event)).some((slot) => slot.id === event.id);
  }

  async update(locationId: string, eventId: string, body: BlockSlotBody, actor: Actor): Promise<BlockSlot> {
    const entry = { action: "block.updated", actor, locationId, blockSlotId: eventId, ...where(body) } as const;
    const slot = await this.attempt(entry, () =>
      this.call(locationId, true, async (token) => {
        await this.assertBlock(token, locationId, eventId);
        return this.highlevel.updateBlockSlot(token, eventId, { ...body, locationId });
      }).catch((err: unknown) => {
        throw eventRefused(err, locationId, eventId);
      }),
    );
    await this.ledger.moved(eventId, locationId, body, actor);
    return slot;
  }

  async remove(locationId: string, eventId: string, actor: Actor): Promise<void> {
    const entry = { action: "block.deleted", actor, locationId, blockSlotId: eventId } as const;
    await this.attempt(entry, () =>
      this.call(locationId, true, async (token) => {
        await this.assertBlock(token, locationId, eventId);
        return this.highlevel.deleteEvent(token, locationId, eventId);
      }).catch(async (err: unknown) => {
        // Gone from HighLevel (deleted by hand): the ledger says so from now on. Only HighLevel's
        // 404 says that; a 401 or 403 (another location's event, a token refused) does not.
        if (err instanceof HighLevelApiError && err.status === 404) await this.ledger.deleted(eventId, { locationId });
        throw eventRefused(err, locationId, eventId);
      }),
    );
    await this.ledger.deleted(eventId, { locationId, actor });
  }

  async calendars(locationId: string) {
    const { calendars } = await this.call(locationId, true, (token) => this.highlevel.listCalendars(token, locationId));
    await this.names.remember(locationId, calendars);
    return calendars.map((c) => ({ id: c.id, name: c.name, userIds: (c.teamMembers ?? []).map((m) => m.userId) }));
  }

  /** Appointments and blocks of a calendar or user overlapping a window (epoch milliseconds). */
  async events(
    locationId: string,
    query: { calendarId?: string; userId?: string; startTime: number; endTime: number },
  ): Promise<CalendarEvent[]> {
    const { events } = await this.call(locationId, true, (token) =>
      this.highlevel.listEvents(token, { locationId, ...query }),
    );
    return events;
  }

  async list(locationId: string, query: BlockSlotListQuery): Promise<{ blockSlots: BlockSlot[] }> {
    const { events } = await this.call(locationId, true, (token) =>
      this.highlevel.listBlockedSlots(token, {
        locationId,
        ...(query.calendarId ? { calendarId: query.calendarId } : { userId: query.userId }),
        startTime: Date.parse(query.startTime),
        endTime: Date.parse(query.endTime),
      }),
    );
    return { blockSlots: events };
  }
}
