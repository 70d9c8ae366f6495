import { Router, type Response } from "express";
import { NotFound } from "./appointments";
import type { SandboxState } from "./state";
import type { NewAppointment, SandboxLocation } from "./types";

type Body = Record<string, unknown>;

const APPOINTMENT_FIELDS = [
  "id",
  "locationId",
  "calendarId",
  "contactId",
  "groupId",
  "appointmentStatus",
  "assignedUserId",
  "users",
  "title",
  "startTime",
  "endTime",
] as const;

/** Only the fields an appointment has: a stray `dateAdded` or `foo` in a test's body is ignored. */
function appointmentFields(body: Body): Body {
  return Object.fromEntries(APPOINTMENT_FIELDS.filter((f) => body[f] !== undefined).map((f) => [f, body[f]]));
}

/** Runs `work`; a thrown message becomes 404 (unknown id) or 400 (bad value), as JSON. */
function answer(res: Response, status: number, work: () => unknown): void {
  try {
    const result = work();
    if (result === undefined) res.status(status).end();
    else res.status(status).json(result);
  } catch (err) {
    const notFound = err instanceof NotFound || /^Unknown sandbox/.test((err as Error).message);
    res.status(notFound ? 404 : 400).json({ message: (err as Error).message });
  }
}

/**
 * What people do in HighLevel itself, for tests and e2e scripts in other processes: rename a
 * sub-account or move its zone, book, move, cancel or delete appointments, uninstall the app.
 * Each sends the webhook HighLevel would, when a webhookUrl is set.
 */
export function worldControlRoutes(state: SandboxState): Router {
  const router = Router();

  /** Body: a SandboxLocation ({id, name, timezone?, calendars?, users?…}) → 201 {location}; LocationCreate webhook. */
  router.post("/companies/:id/locations", (req, res) => {
    answer(res, 201, () => ({
      location: state.addLocation(String(req.params.id), (req.body ?? {}) as SandboxLocation).location,
    }));
  });

  /** Body {name?, timezone?} → {location}; LocationUpdate webhook. */
  router.patch("/locations/:id", (req, res) => {
    const body = (req.body ?? {}) as Body;
    const changes = {
      ...(body.name !== undefined ? { name: body.name as string } : {}),
      ...(body.timezone !== undefined ? { timezone: body.timezone as string } : {}),
    };
    answer(res, 200, () => ({ location: state.updateLocation(String(req.params.id), changes).location }));
  });

  router.get("/appointments", (req, res) => {
    const locationId = typeof req.query.locationId === "string" ? req.query.locationId : undefined;
    const all = [...state.appointments.byId.values()];
    res.json({ appointments: locationId ? all.filter((a) => a.locationId === locationId) : all });
  });

  /** Body: CalendarEventDTO fields; locationId, calendarId, startTime and endTime are required. */
  router.post("/appointments", (req, res) => {
    const fields = appointmentFields((req.body ?? {}) as Body) as unknown as NewAppointment;
    answer(res, 201, () => state.addAppointment(fields));
  });

  router.patch("/appointments/:id", (req, res) => {
    const { id: _id, locationId: _location, ...changes } = appointmentFields((req.body ?? {}) as Body);
    answer(res, 200, () => state.updateAppointment(String(req.params.id), changes));
  });

  router.post("/appointments/:id/cancel", (req, res) => {
    answer(res, 200, () => state.cancelAppointment(String(req.params.id)));
  });

  router.delete("/appointments/:id", (req, res) => {
    answer(res, 204, () => void state.deleteAppointment(String(req.params.id)));
  });

  /** Body {locationId} or {companyId}: the app is removed there; UNINSTALL webhook. */
  router.post("/uninstall", (req, res) => {
    const body = (req.body ?? {}) as Body;
    const target =
      typeof body.locationId === "string"
        ? { locationId: body.locationId }
        : typeof body.companyId === "string"
          ? { companyId: body.companyId }
          : undefined;
    if (!target) return void res.status(400).json({ message: "send {locationId} or {companyId}" });
    answer(res, 204, () => void state.uninstall(target));
  });

  return router;
}
