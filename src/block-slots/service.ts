import type { BlockSlot, HighLevelCalendars } from "../highlevel/calendars";
import { waitOutRateLimit } from "../highlevel/rate-limit";
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

  private call<T>(locationId: string, fn: (token: string) => Promise<T>): Promise<T> {
    return this.tokens.withAccessToken(locationId, (token) =>
      waitOutRateLimit(() => fn(token), { maxWaitMs: MAX_RATE_LIMIT_WAIT_MS }),
    );
  }

  create(locationId: string, body: BlockSlotBody): Promise<BlockSlot> {
    return this.call(locationId, (token) => this.calendars.createBlockSlot(token, { ...body, locationId }));
  }

  update(locationId: string, eventId: string, body: BlockSlotBody): Promise<BlockSlot> {
    return this.call(locationId, (token) => this.calendars.updateBlockSlot(token, eventId, { ...body, locationId }));
  }

  async remove(locationId: string, eventId: string): Promise<void> {
    await this.call(locationId, (token) => this.calendars.deleteEvent(token, eventId));
  }

  async list(locationId: string, query: BlockSlotListQuery): Promise<{ blockSlots: unknown[] }> {
    const { events } = await this.call(locationId, (token) =>
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
