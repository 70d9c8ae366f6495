import { send, type HighLevelHttp, type HighLevelRequest } from "./http";
import { RateLimitHeld } from "./errors";
import type { RateLimitPacer } from "./pacer";

export const CALENDARS_VERSION = "2021-04-15";

export interface BlockedSlotsQuery {
  locationId: string;
  calendarId?: string;
  userId?: string;
  /** Epoch milliseconds, as HighLevel wants them. */
  startTime: number;
  endTime: number;
}

/**
 * HighLevel's calendar endpoints (docs/highlevel.md, "Calendars"). Every call takes a location
 * token and is paced per location by the pacer all processes share, so no caller has to think
 * about the rate limits.
 */
export class HighLevelCalendars {
  constructor(
    private readonly http: HighLevelHttp,
    private readonly pacer: RateLimitPacer,
  ) {}

  private headers(accessToken: string) {
    return { Authorization: `Bearer ${accessToken}`, Version: CALENDARS_VERSION };
  }

  /**
   * `sendBy`: the latest moment the request may leave (epoch ms). Queued work holds a lease on its
   * item only so long; a create sent after another worker may have taken the item over could be
   * made twice. Past it nothing is sent, and the work is put back as rate-limited (no failure).
   */
  private async paced<T>(locationId: string, operation: string, config: HighLevelRequest, sendBy?: number): Promise<T> {
    await this.pacer.acquire(locationId, sendBy === undefined ? {} : { maxWaitMs: Math.max(0, sendBy - Date.now()) });
    if (sendBy !== undefined && Date.now() > sendBy)
      throw new RateLimitHeld(locationId, "burst", new Date(Date.now() + 1000));
    return send<T>(
      this.http,
      operation,
      config,
      (headers, status) => void this.pacer.observe(locationId, headers, status),
    );
  }

  createBlockSlot(accessToken: string, input: BlockSlotInput, sendBy?: number): Promise<BlockSlot> {
    return this.paced(
      input.locationId,
      "create block slot",
      {
        method: "POST",
        url: "/calendars/events/block-slots",
        data: input,
        headers: this.headers(accessToken),
      },
      sendBy,
    );
  }

  updateBlockSlot(accessToken: string, eventId: string, input: BlockSlotInput): Promise<BlockSlot> {
    return this.paced(input.locationId, "edit block slot", {
      method: "PUT",
      url: `/calendars/events/block-slots/${encodeURIComponent(eventId)}`,
      data: input,
      headers: this.headers(accessToken),
    });
  }

  deleteEvent(accessToken: string, locationId: string, eventId: string): Promise<{ succeeded: boolean }> {
    return this.paced(locationId, "delete event", {
      method: "DELETE",
      url: `/calendars/events/${encodeURIComponent(eventId)}`,
      // HighLevel's OpenAPI file requires a JSON body here (an empty object, DeleteAppointmentSchema).
      data: {},
      headers: this.headers(accessToken),
    });
  }

  /** The location's calendars (id and name are what the app shows). */
  async listCalendars(accessToken: string, locationId: string): Promise<{ calendars: CalendarSummary[] }> {
    return this.paced(locationId, "list calendars", {
      method: "GET",
      url: "/calendars/",
      params: { locationId },
      headers: this.headers(accessToken),
    });
  }

  /**
   * One calendar event, appointment or block (`GET /calendars/events/appointments/{eventId}`): how the
   * app tells a customer's appointment from a block before it edits or deletes anything.
   */
  async getEvent(accessToken: string, locationId: string, eventId: string): Promise<CalendarEvent> {
    const { event } = await this.paced<{ event: CalendarEvent }>(locationId, "get event", {
      method: "GET",
      url: `/calendars/events/appointments/${encodeURIComponent(eventId)}`,
      headers: this.headers(accessToken),
    });
    return event;
  }

  /** Appointments (and blocks) overlapping a window (`GET /calendars/events`). */
  async listEvents(accessToken: string, query: BlockedSlotsQuery): Promise<{ events: CalendarEvent[] }> {
    return this.paced(query.locationId, "list events", {
      method: "GET",
      url: "/calendars/events",
      params: { ...query, startTime: String(query.startTime), endTime: String(query.endTime) },
      headers: this.headers(accessToken),
    });
  }

  async listBlockedSlots(accessToken: string, query: BlockedSlotsQuery): Promise<{ events: BlockSlot[] }> {
    return this.paced(query.locationId, "list blocked slots", {
      method: "GET",
      url: "/calendars/blocked-slots",
      params: { ...query, startTime: String(query.startTime), endTime: String(query.endTime) },
      headers: this.headers(accessToken),
    });
  }
}

export interface BlockSlotInput {
  locationId: string;
  calendarId?: string;
  assignedUserId?: string;
  title?: string;
  startTime: string;
  endTime: string;
}

export interface CalendarSummary {
  id: string;
  name: string;
  isActive?: boolean;
  /** Who works the calendar: HighLevel gives their user ids, not their names. */
  teamMembers?: { userId: string }[];
}

/** A calendar event as HighLevel lists it: an appointment carries a contact and a status; a block neither. */
export type CalendarEvent = BlockSlot & {
  contactId?: string;
  appointmentStatus?: string;
};

export const isAppointment = (event: CalendarEvent) => !!event.contactId || !!event.appointmentStatus;

/**
 * Appointment statuses that no longer hold the time: HighLevel keeps a cancelled appointment with
 * status "cancelled" (or "invalid"). The American spelling and any case are read the same, so a
 * change of wording never leaves a freed slot blocked.
 */
const FREED = new Set(["cancelled", "canceled", "invalid"]);
export const freesTime = (appointmentStatus: string | undefined) => FREED.has((appointmentStatus ?? "").toLowerCase());

/** A type, not an interface: HighLevel's events carry more fields than these, and callers pass them on. */
export type BlockSlot = {
  id: string;
  locationId: string;
  title?: string;
  startTime: string;
  endTime: string;
  calendarId?: string;
  assignedUserId?: string;
};
