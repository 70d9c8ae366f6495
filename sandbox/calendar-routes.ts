import { Router, type Request, type Response } from "express";
import { accessToken, validation } from "./auth";
import { httpErrorBody, refuse, rejectInvalid, unprocessable } from "./errors";
import { newId } from "./ids";
import type { SandboxState } from "./state";
import type { BlockSlot } from "./types";

type Body = Record<string, unknown>;

/** FACTS.md: block slot times are ISO-8601 with an offset ("Z" is the zero offset). */
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const NO_LOCATION_ACCESS = httpErrorBody(403, "The token does not have access to this location.");
const EVENT_NOT_FOUND = httpErrorBody(404, "Event not found");

/** The success status the OpenAPI file declares for the matched operation (201 for edits and deletes). */
function successStatus(res: Response): number {
  const responses = (validation(res).operation?.op.responses ?? {}) as Record<string, unknown>;
  return Number(Object.keys(responses).find((s) => /^2\d\d$/.test(s)) ?? 200);
}

/**
 * FACTS.md rules the schema cannot express. `existing` is the slot being edited: an edit may
 * leave the times out and keep the stored ones.
 */
function blockSlotProblems(body: Body, existing?: BlockSlot): string[] {
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
function checkBlockSlotBody(state: SandboxState, req: Request, res: Response, existing?: BlockSlot): boolean {
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

function publicSlot(slot: BlockSlot) {
  const { dateAdded: _added, dateUpdated: _updated, ...rest } = slot;
  return rest;
}

/** Finds the event for edit/delete; answers and returns undefined when it cannot be used. */
function ownedSlot(state: SandboxState, req: Request, res: Response): BlockSlot | undefined {
  const slot = state.slots.get(String(req.params.eventId));
  if (!slot) return void refuse(res, 404, EVENT_NOT_FOUND, "no such event");
  const token = accessToken(res);
  if (slot.locationId !== token.locationId) {
    return void rejectInvalid(res, 403, NO_LOCATION_ACCESS, [
      `event ${slot.id} belongs to location ${slot.locationId}`,
    ]);
  }
  return slot;
}

export function calendarRoutes(state: SandboxState): Router {
  const router = Router();

  router.post("/calendars/events/block-slots", (req, res) => {
    if (!checkBlockSlotBody(state, req, res)) return;
    const body = req.body as Body;
    const now = new Date().toISOString();
    // No idempotency key (FACTS.md): every create makes a new slot, duplicates included.
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
    const slot = ownedSlot(state, req, res);
    if (!slot || !checkBlockSlotBody(state, req, res, slot)) return;
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

  router.delete("/calendars/events/:eventId", (req, res) => {
    const slot = ownedSlot(state, req, res);
    if (!slot) return;
    state.slots.delete(slot.id);
    res.status(successStatus(res)).json({ succeeded: true });
  });

  router.get("/calendars/blocked-slots", (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    const token = accessToken(res);
    if (q.locationId !== token.locationId) {
      return rejectInvalid(res, 403, NO_LOCATION_ACCESS, [`locationId ${q.locationId} is not the token's location`]);
    }
    const problems: string[] = [];
    if (!q.calendarId && !q.userId && !q.groupId) problems.push("one of calendarId, userId or groupId is required");
    for (const field of ["startTime", "endTime"] as const) {
      if (!/^\d+$/.test(q[field] ?? "")) problems.push(`${field} must be epoch milliseconds`);
    }
    if (problems.length > 0) return unprocessable(res, problems);
    const from = Number(q.startTime);
    const to = Number(q.endTime);
    const events = state
      .blockSlots(token.locationId)
      .filter((s) => (q.calendarId ? s.calendarId === q.calendarId : true))
      .filter((s) => (q.userId ? s.assignedUserId === q.userId : true))
      .filter(() => !q.groupId) // the sandbox has no calendar groups
      .filter((s) => Date.parse(s.startTime) < to && Date.parse(s.endTime) > from)
      .sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime));
    res.status(successStatus(res)).json({ events });
  });

  router.get("/calendars/", (req, res) => {
    const token = accessToken(res);
    if (req.query.locationId !== token.locationId) {
      return rejectInvalid(res, 403, NO_LOCATION_ACCESS, [`locationId is not the token's location`]);
    }
    const calendars = state.findLocation(token.locationId ?? "")?.location.calendars ?? [];
    res.json({ calendars: calendars.map((c) => ({ ...c, locationId: token.locationId, isActive: true })) });
  });

  return router;
}
