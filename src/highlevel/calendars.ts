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

  async listBlockedSlots(accessToken: string, query: BlockedSlotsQuery): Promise<{ events: unknown[] }> {
    return send(this.http, "list blocked slots", {
      method: "GET",
      url: "/calendars/blocked-slots",
      params: { ...query, startTime: String(query.startTime), endTime: String(query.endTime) },
      headers: this.headers(accessToken),
    });
  }
}
