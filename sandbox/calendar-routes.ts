import { Router, type Request, type Response } from "express";
import { accessToken } from "./auth";
import { byStart, eventFilter, matches, ownedEvent, publicSlot } from "./calendar-events";
import { httpErrorBody, NO_LOCATION_ACCESS, refuse, rejectInvalid, unprocessable } from "./errors";
import { newId } from "./ids";
import { successStatus } from "./openapi-gate";
import { addNote } from "./recorder";
import type { SandboxState } from "./state";
import type { Appointment, BlockSlot } from "./types";

type Body = Record<string, unknown>;

/** Block slot times are ISO-8601 with an offset, "Z" being the zero offset (docs/highlevel.md, Calendars). */
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Documented rules the schema cannot express. `existing` is the event being edited: an edit may
 * leave the times out and keep the stored ones.
 */
function blockSlotProblems(body: Body, existing?: { startTime: string; endTime: string }): string[] {
  const problems: string[] = [];
  const hasCalendar = typeof body.calendarId === "string" && body.calendarId !== "";
  const hasUser = typeof body.assignedUserId === "string" && body.assignedUserId !== "";
  if (hasCalendar === hasUser) problems.push("exactly one of calendarId or assignedUserId must be set, not both");
  for (const field of ["startTime", "endTime"] as const) {
    const value = body[field];
    if (value === undefined && existing) continue;
    if (typeof value !== "string" || !ISO_WITH_OFFSET.test(value)) {
      problems.push(`${field} must be an ISO-8601 date-time with an offset, e.g. 2021-06-23T03:30:00+05:30`);
    } else if (Number.isNaN(Date.parse(value))) problems.push(`${field} is not a real date-time`);
  }
  if (problems.length === 0) {
    const start = Date.parse(String(body.startTime ?? existing?.startTime));
    const end = Date.parse(String(body.endTime ?? existing?.endTime));
    if (end <= start) problems.push("endTime must be after startTime");
  }
  return problems;
}

/** Common checks of create and edit; answers and returns false when the request is refused. */
function checkBlockSlotBody(
  state: SandboxState,
  req: Request,
  res: Response,
  existing?: { startTime: string; endTime: string },
): boolean {
  const body = req.body as Body;
  const problems = blockSlotProblems(body, existing);
  if (problems.length > 0) {
    unprocessable(res, problems);
    return false;
  }
  const token = accessToken(res);
  if (body.locationId !== token.locationId) {
    rejectInvalid(res, 403, NO_LOCATION_ACCESS, [
      `body locationId ${String(body.locationId)} is not the token's location ${token.locationId}`,
    ]);
    return false;
  }
  const calendars = state.findLocation(token.locationId ?? "")?.location.calendars;
  if (typeof body.calendarId === "string" && calendars && !calendars.some((c) => c.id === body.calendarId)) {
    refuse(res, 400, httpErrorBody(400, "Calendar not found"), `calendar ${body.calendarId} is not in the fixture`);
    return false;
  }
  return true;
}

/**
 * HighLevel does not document what the block-slot edit does to an appointment's id. The
 * sandbox does the dangerous thing, edits the customer's appointment, and notes it on the
 * request so a test can prove the app never sends it.
 */
function editAppointment(state: SandboxState, req: Request, res: Response, appointment: Appointment): void {
  const body = req.body as Body;
  addNote(res, "edited an appointment through the block-slot route");
  const edited = state.updateAppointment(appointment.id, {
    ...(typeof body.title === "string" ? { title: body.title } : {}),
    ...(typeof body.startTime === "string" ? { startTime: body.startTime } : {}),
    ...(typeof body.endTime === "string" ? { endTime: body.endTime } : {}),
    ...(typeof body.calendarId === "string" ? { calendarId: body.calendarId } : {}),
    ...(typeof body.assignedUserId === "string" ? { assignedUserId: body.assignedUserId } : {}),
  });
  const { id, locationId, title, startTime, endTime, calendarId, assignedUserId } = edited;
  res.status(successStatus(res)).json({ id, locationId, title, startTime, endTime, calendarId, assignedUserId });
}

export function calendarRoutes(state: SandboxState): Router {
  const router = Router();

  router.post("/calendars/events/block-slots", (req, res) => {
    if (!checkBlockSlotBody(state, req, res)) return;
    const body = req.body as Body;
    const now = new Date().toISOString();
    // No idempotency key (docs/highlevel.md, Calendars): every create makes a new slot, duplicates included.
    const slot: BlockSlot = {
      id: newId(),
      locationId: String(body.locationId),
      title: typeof body.title === "string" ? body.title : "",
      startTime: String(body.startTime),
      endTime: String(body.endTime),
      ...(typeof body.calendarId === "string" ? { calendarId: body.calendarId } : {}),
      ...(typeof body.assignedUserId === "string" ? { assignedUserId: body.assignedUserId } : {}),
      dateAdded: now,
      dateUpdated: now,
    };
    state.slots.set(slot.id, slot);
    res.status(successStatus(res)).json(publicSlot(slot));
  });

  router.put("/calendars/events/block-slots/:eventId", (req, res) => {
    const event = ownedEvent(state, req, res);
    if (!event) return;
    const existing = event.kind === "slot" ? event.slot : event.appointment;
    if (!checkBlockSlotBody(state, req, res, existing)) return;
    if (event.kind === "appointment") return editAppointment(state, req, res, event.appointment);
    const { slot } = event;
    const body = req.body as Body;
    const updated: BlockSlot = {
      id: slot.id,
      locationId: slot.locationId,
      title: typeof body.title === "string" ? body.title : slot.title,
      startTime: typeof body.startTime === "string" ? body.startTime : slot.startTime,
      endTime: typeof body.endTime === "string" ? body.endTime : slot.endTime,
      ...(typeof body.calendarId === "string" ? { calendarId: body.calendarId } : {}),
      ...(typeof body.assignedUserId === "string" ? { assignedUserId: body.assignedUserId } : {}),
      dateAdded: slot.dateAdded,
      dateUpdated: new Date().toISOString(),
    };
    state.slots.set(slot.id, updated);
    res.status(successStatus(res)).json(publicSlot(updated));
  });

  // Deletes ANY event, a customer's appointment included: HighLevel's real danger.
  router.delete("/calendars/events/:eventId", (req, res) => {
    const event = ownedEvent(state, req, res);
    if (!event) return;
    if (event.kind === "slot") state.slots.delete(event.slot.id);
    else {
      addNote(res, "deleted an appointment");
      state.deleteAppointment(event.appointment.id);
    }
    res.status(successStatus(res)).json({ succeeded: true });
  });

  // Blocks only; get-calendar-events (event-routes.ts) lists appointments too.
  router.get("/calendars/blocked-slots", (req, res) => {
    const filter = eventFilter(res, req.query);
    if (!filter) return;
    const locationId = accessToken(res).locationId ?? "";
    const groupOf = (calendarId?: string) =>
      calendarId ? state.world.findCalendar(locationId, calendarId)?.groupId : undefined;
    const events = state
      .blockSlots(locationId)
      .filter((s) => matches(s, groupOf(s.calendarId), filter))
      .sort(byStart);
    res.status(successStatus(res)).json({ events });
  });

  router.get("/calendars/", (req, res) => {
    const token = accessToken(res);
    if (req.query.locationId !== token.locationId) {
      return rejectInvalid(res, 403, NO_LOCATION_ACCESS, [`locationId is not the token's location`]);
    }
    const calendars = state.findLocation(token.locationId ?? "")?.location.calendars ?? [];
    res.json({
      calendars: calendars.map(({ teamMembers = [], ...calendar }) => ({
        ...calendar,
        locationId: token.locationId,
        isActive: true,
        // TeamMember objects; the sandbox keeps only who they are.
        teamMembers: teamMembers.map((userId, i) => ({ userId, priority: 0.5, isPrimary: i === 0 })),
      })),
    });
  });

  return router;
}
