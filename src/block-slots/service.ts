import type { BlockSlot, HighLevelCalendars } from "../highlevel/calendars";
import { retryTransient, waitOutRateLimit } from "../highlevel/rate-limit";
import type { TokenService } from "../tokens/service";
import type { BlockSlotBody, BlockSlotListQuery } from "./schemas";

/** A rate-limit wait longer than this is not waited out: the caller gets 429 with Retry-After. */
const MAX_RATE_LIMIT_WAIT_MS = 10_000;

/** Block slots for one location, with that location's token, through the one HighLevel client. */
export class BlockSlotService {
  constructor(
    private readonly tokens: TokenService,
    private readonly calendars: HighLevelCalendars,
  ) {}

  /**
   * `safe`: the operation can be sent again without a second effect (list, edit to the same
   * body, delete), so 5xx and lost answers are retried. A create is not: HighLevel has no
   * idempotency key, and a blind retry could block the time twice.
   */
  private call<T>(locationId: string, safe: boolean, fn: (token: string) => Promise<T>): Promise<T> {
    const once = (token: string) => waitOutRateLimit(() => fn(token), { maxWaitMs: MAX_RATE_LIMIT_WAIT_MS });
    return this.tokens.withAccessToken(locationId, (token) => (safe ? retryTransient(() => once(token)) : once(token)));
  }

  create(locationId: string, body: BlockSlotBody): Promise<BlockSlot> {
    return this.call(locationId, false, (token) => this.calendars.createBlockSlot(token, { ...body, locationId }));
  }

  update(locationId: string, eventId: string, body: BlockSlotBody): Promise<BlockSlot> {
    return this.call(locationId, true, (token) =>
      this.calendars.updateBlockSlot(token, eventId, { ...body, locationId }),
    );
  }

  async remove(locationId: string, eventId: string): Promise<void> {
    await this.call(locationId, true, (token) => this.calendars.deleteEvent(token, eventId));
  }

  async list(locationId: string, query: BlockSlotListQuery): Promise<{ blockSlots: unknown[] }> {
    const { events } = await this.call(locationId, true, (token) =>
      this.calendars.listBlockedSlots(token, {
        locationId,
        ...(query.calendarId ? { calendarId: query.calendarId } : { userId: query.userId }),
        startTime: Date.parse(query.startTime),
        endTime: Date.parse(query.endTime),
      }),
    );
    return { blockSlots: events };
  }
}
