import type { BlockSlot, HighLevelCalendars } from "../highlevel/calendars";
import { HighLevelApiError, HighLevelUnreachableError } from "../highlevel/errors";
import { setTimeout as sleep } from "node:timers/promises";
import { retryTransient, waitOutRateLimit } from "../highlevel/rate-limit";
import type { TokenService } from "../tokens/service";
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

export interface CreateOptions {
  /** An earlier attempt of this same create may have succeeded (idempotent retry, job resumed): look first. */
  lookFirst?: boolean;
}

/** Block slots for one location, with that location's token, through the one HighLevel client. */
export class BlockSlotService {
  constructor(
    private readonly tokens: TokenService,
    private readonly highlevel: HighLevelCalendars,
  ) {}

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
   * is sent again only when it is not there.
   */
  create(locationId: string, body: BlockSlotBody, options: CreateOptions = {}): Promise<BlockSlot> {
    // Outside the attempt: a 429 or a 401 restarts it, and it must still look before sending.
    let uncertain = options.lookFirst ?? false;
    return this.call(locationId, false, async (token) => {
      for (let resend = 0; ; resend++) {
        if (uncertain) {
          const found = await this.find(token, locationId, body);
          if (found) return found;
        }
        try {
          return await this.highlevel.createBlockSlot(token, { ...body, locationId });
        } catch (err) {
          if (!outcomeUnknown(err)) throw err;
          uncertain = true;
          if (resend >= CREATE_RESENDS) throw err;
          await sleep(300 * (resend + 1));
        }
      }
    });
  }

  /** The block `body` describes, if HighLevel has it (listing is safe, so it is retried). */
  private async find(token: string, locationId: string, body: BlockSlotBody): Promise<BlockSlot | undefined> {
    const { events } = await retryTransient(() =>
      this.highlevel.listBlockedSlots(token, {
        locationId,
        ...(body.calendarId ? { calendarId: body.calendarId } : { userId: body.assignedUserId }),
        startTime: Date.parse(body.startTime),
        endTime: Date.parse(body.endTime),
      }),
    );
    return events.find((slot) => matchesBody(slot, body));
  }

  update(locationId: string, eventId: string, body: BlockSlotBody): Promise<BlockSlot> {
    return this.call(locationId, true, (token) =>
      this.highlevel.updateBlockSlot(token, eventId, { ...body, locationId }),
    );
  }

  async remove(locationId: string, eventId: string): Promise<void> {
    await this.call(locationId, true, (token) => this.highlevel.deleteEvent(token, locationId, eventId));
  }

  async calendars(locationId: string) {
    const { calendars } = await this.call(locationId, true, (token) => this.highlevel.listCalendars(token, locationId));
    return calendars.map((c) => ({ id: c.id, name: c.name }));
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
