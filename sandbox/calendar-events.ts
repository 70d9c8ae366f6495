import type { Request, Response } from "express";
import { accessToken } from "./auth";
import { httpErrorBody, NO_LOCATION_ACCESS, refuse, rejectInvalid, unprocessable } from "./errors";
import type { SandboxState } from "./state";
import type { Appointment, BlockSlot } from "./types";

/**
 * What the calendar routes share: one event id space for block slots and appointments (as in
 * HighLevel, where DELETE /calendars/events/{eventId} takes either), and the window query of
 * the list endpoints.
 */

export const EVENT_NOT_FOUND = httpErrorBody(404, "Event not found");

export type CalendarEvent = { kind: "slot"; slot: BlockSlot } | { kind: "appointment"; appointment: Appointment };

/** The event named by `:eventId`, if it is the token's location's; otherwise answers 404 or 403. */
export function ownedEvent(state: SandboxState, req: Request, res: Response): CalendarEvent | undefined {
  const id = String(req.params.eventId);
  const slot = state.slots.get(id);
  const appointment = slot ? undefined : state.appointments.get(id);
  const locationId = slot?.locationId ?? appointment?.locationId;
  if (!locationId) return void refuse(res, 404, EVENT_NOT_FOUND, "no such event");
  if (locationId !== accessToken(res).locationId) {
    return void rejectInvalid(res, 403, NO_LOCATION_ACCESS, [`event ${id} belongs to location ${locationId}`]);
  }
  return slot ? { kind: "slot", slot } : { kind: "appointment", appointment: appointment! };
}

/**
 * A block slot as the events endpoints show it: CalendarEventDTO without contactId and
 * appointmentStatus, which is how a client tells a block from an appointment. (HighLevel does
 * not document this shape; the absence of those two fields is the sandbox's assumption.)
 */
export function slotAsEvent(slot: BlockSlot) {
  return { ...slot };
}

/** The block-slot routes' answer: HighLevel's block slot, without the dates it keeps. */
export function publicSlot(slot: BlockSlot) {
  const { dateAdded: _added, dateUpdated: _updated, ...rest } = slot;
  return rest;
}

export interface EventFilter {
  from: number;
  to: number;
  calendarId?: string;
  userId?: string;
  groupId?: string;
}

/**
 * The query of get-calendar-events and get-blocked-slots: the token's location, one of
 * calendarId/userId/groupId, and a window in epoch milliseconds. Answers and returns undefined
 * when the request is refused.
 */
export function eventFilter(res: Response, query: Record<string, unknown>): EventFilter | undefined {
  const q = query as Record<string, string | undefined>;
  if (q.locationId !== accessToken(res).locationId) {
    return void rejectInvalid(res, 403, NO_LOCATION_ACCESS, [`locationId ${q.locationId} is not the token's location`]);
  }
  const problems: string[] = [];
  if (!q.calendarId && !q.userId && !q.groupId) problems.push("one of calendarId, userId or groupId is required");
  for (const field of ["startTime", "endTime"] as const) {
    if (!/^\d+$/.test(q[field] ?? "")) problems.push(`${field} must be epoch milliseconds`);
  }
  if (problems.length > 0) return void unprocessable(res, problems);
  return {
    from: Number(q.startTime),
    to: Number(q.endTime),
    calendarId: q.calendarId || undefined,
    userId: q.userId || undefined,
    groupId: q.groupId || undefined,
  };
}

/** Overlaps the window and matches every filter given (an event outside any group matches no groupId). */
export function matches(
  event: { startTime: string; endTime: string; calendarId?: string; assignedUserId?: string; users?: string[] },
  groupId: string | undefined,
  filter: EventFilter,
): boolean {
  if (filter.calendarId && event.calendarId !== filter.calendarId) return false;
  if (filter.userId && event.assignedUserId !== filter.userId && !event.users?.includes(filter.userId)) return false;
  if (filter.groupId && groupId !== filter.groupId) return false;
  return Date.parse(event.startTime) < filter.to && Date.parse(event.endTime) > filter.from;
}

export const byStart = (a: { startTime: string }, b: { startTime: string }): number =>
  Date.parse(a.startTime) - Date.parse(b.startTime);
