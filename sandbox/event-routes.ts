import { Router } from "express";
import { accessToken } from "./auth";
import { byStart, eventFilter, matches, ownedEvent, slotAsEvent } from "./calendar-events";
import { successStatus } from "./openapi-gate";
import type { SandboxState } from "./state";

/**
 * Reading a location's calendar events: appointments and block slots together, as HighLevel's
 * get-calendar-events and get-appointment return them (docs/highlevel.md, Calendars).
 */
export function eventRoutes(state: SandboxState): Router {
  const router = Router();

  router.get("/calendars/events", (req, res) => {
    const filter = eventFilter(res, req.query);
    if (!filter) return;
    const locationId = accessToken(res).locationId ?? "";
    const groupOf = (calendarId?: string) =>
      calendarId ? state.world.findCalendar(locationId, calendarId)?.groupId : undefined;
    const appointments = state.appointments
      .forLocation(locationId)
      .filter((a) => matches(a, a.groupId || undefined, filter));
    const slots = state
      .blockSlots(locationId)
      .filter((s) => matches(s, groupOf(s.calendarId), filter))
      .map(slotAsEvent);
    res.status(successStatus(res)).json({ events: [...appointments, ...slots].sort(byStart) });
  });

  router.get("/calendars/events/appointments/:eventId", (req, res) => {
    const event = ownedEvent(state, req, res);
    if (!event) return;
    const body = event.kind === "appointment" ? { ...event.appointment } : slotAsEvent(event.slot);
    res.status(successStatus(res)).json({ event: body });
  });

  return router;
}
