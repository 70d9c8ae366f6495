import type { AxiosInstance } from "axios";
import { send } from "./http";

export const CALENDARS_VERSION = "2021-04-15";

export interface BlockedSlotsQuery {
  locationId: string;
  calendarId?: string;
  userId?: string;
  /** Epoch milliseconds, as HighLevel wants them. */
  startTime: number;
  endTime: number;
}

/** HighLevel's calendar endpoints (FACTS.md, openapi/calendars.json). Every call takes a location token. */
export class HighLevelCalendars {
  constructor(private readonly http: AxiosInstance) {}

  private headers(accessToken: string) {
    return { Authorization: `Bearer ${accessToken}`, Version: CALENDARS_VERSION };
  }

  createBlockSlot(accessToken: string, input: BlockSlotInput): Promise<BlockSlot> {
    return send(this.http, "create block slot", {
      method: "POST",
      url: "/calendars/events/block-slots",
      data: input,
      headers: { ...this.headers(accessToken), "Content-Type": "application/json" },
    });
  }

  updateBlockSlot(accessToken: string, eventId: string, input: BlockSlotInput): Promise<BlockSlot> {
    return send(this.http, "edit block slot", {
      method: "PUT",
      url: `/calendars/events/block-slots/${encodeURIComponent(eventId)}`,
      data: input,
      headers: { ...this.headers(accessToken), "Content-Type": "application/json" },
    });
  }

  deleteEvent(accessToken: string, eventId: string): Promise<{ succeeded: boolean }> {
    return send(this.http, "delete event", {
      method: "DELETE",
      url: `/calendars/events/${encodeURIComponent(eventId)}`,
      headers: this.headers(accessToken),
    });
  }

  async listBlockedSlots(accessToken: string, query: BlockedSlotsQuery): Promise<{ events: unknown[] }> {
    return send(this.http, "list blocked slots", {
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

export interface BlockSlot {
  id: string;
  locationId: string;
  title?: string;
  startTime: string;
  endTime: string;
  calendarId?: string;
  assignedUserId?: string;
}
