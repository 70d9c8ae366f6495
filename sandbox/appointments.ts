import { DateTime } from "luxon";
import { newId } from "./ids";
import type { Appointment, AppointmentChanges, AppointmentStatus, NewAppointment } from "./types";
import type { World } from "./world";

export type AppointmentEvent = "AppointmentCreate" | "AppointmentUpdate" | "AppointmentDelete";

const STATUSES: AppointmentStatus[] = ["new", "confirmed", "cancelled", "showed", "noshow", "invalid"];

/**
 * Customers' appointments, kept beside the block slots. HighLevel's DELETE /calendars/events/{id}
 * deletes these too, which is why the sandbox holds them: tests prove the app never does.
 * Methods throw with a message for the caller (the control routes answer 400 or 404 with it).
 */
export class AppointmentBook {
  readonly byId = new Map<string, Appointment>();

  constructor(
    private readonly world: World,
    /** Called after every change, with the appointment as it now is (or was, when deleted). */
    private readonly changed: (event: AppointmentEvent, appointment: Appointment) => void,
  ) {}

  get(id: string): Appointment | undefined {
    return this.byId.get(id);
  }

  forLocation(locationId: string): Appointment[] {
    return [...this.byId.values()].filter((a) => a.locationId === locationId);
  }

  /** `announce: false` for fixtures: no webhook for what was always there. */
  add(input: NewAppointment, { announce = true } = {}): Appointment {
    const found = this.world.findLocation(input.locationId);
    if (!found) throw new NotFound(`Unknown sandbox location ${input.locationId}`);
    const calendar = this.checkCalendar(input.locationId, input.calendarId);
    const zone = this.world.timezoneOf(found.location);
    const now = new Date().toISOString();
    const assignedUserId =
      input.assignedUserId ?? calendar?.teamMembers?.[0] ?? found.location.users?.[0]?.id ?? newId();
    const appointment: Appointment = {
      id: input.id ?? newId(),
      calendarId: input.calendarId,
      locationId: input.locationId,
      contactId: input.contactId ?? newId(),
      groupId: input.groupId ?? calendar?.groupId ?? "",
      appointmentStatus: checkStatus(input.appointmentStatus ?? "confirmed"),
      assignedUserId,
      users: input.users ?? [assignedUserId],
      title: input.title ?? "Appointment",
      startTime: localTime(input.startTime, zone, "startTime"),
      endTime: localTime(input.endTime, zone, "endTime"),
      dateAdded: now,
      dateUpdated: now,
    };
    checkOrder(appointment);
    if (this.byId.has(appointment.id)) throw new Error(`An event with id ${appointment.id} exists already`);
    this.byId.set(appointment.id, appointment);
    if (announce) this.changed("AppointmentCreate", appointment);
    return appointment;
  }

  update(id: string, changes: AppointmentChanges): Appointment {
    const existing = this.require(id);
    const zone = this.world.timezoneOf(this.world.findLocation(existing.locationId)!.location);
    const calendarId = changes.calendarId ?? existing.calendarId;
    const calendar = this.checkCalendar(existing.locationId, calendarId);
    const updated: Appointment = {
      ...existing,
      title: changes.title ?? existing.title,
      assignedUserId: changes.assignedUserId ?? existing.assignedUserId,
      users: changes.users ?? existing.users,
      calendarId,
      groupId: calendarId === existing.calendarId ? existing.groupId : (calendar?.groupId ?? ""),
      appointmentStatus: checkStatus(changes.appointmentStatus ?? existing.appointmentStatus),
      startTime: changes.startTime ? localTime(changes.startTime, zone, "startTime") : existing.startTime,
      endTime: changes.endTime ? localTime(changes.endTime, zone, "endTime") : existing.endTime,
      dateUpdated: new Date().toISOString(),
    };
    checkOrder(updated);
    this.byId.set(id, updated);
    this.changed("AppointmentUpdate", updated);
    return updated;
  }

  /** HighLevel keeps a cancelled appointment, with appointmentStatus "cancelled". */
  cancel(id: string): Appointment {
    return this.update(id, { appointmentStatus: "cancelled" });
  }

  delete(id: string): Appointment {
    const existing = this.require(id);
    this.byId.delete(id);
    this.changed("AppointmentDelete", existing);
    return existing;
  }

  /** From the state file: no webhooks, the appointments existed already. */
  restore(appointments: Appointment[]): void {
    for (const appointment of appointments) this.byId.set(appointment.id, appointment);
  }

  private require(id: string): Appointment {
    const appointment = this.byId.get(id);
    if (!appointment) throw new NotFound(`No appointment ${id}`);
    return appointment;
  }

  private checkCalendar(locationId: string, calendarId: string) {
    if (typeof calendarId !== "string" || calendarId === "") throw new Error("calendarId is required");
    const calendars = this.world.findLocation(locationId)?.location.calendars;
    if (!calendars) return undefined;
    const calendar = calendars.find((c) => c.id === calendarId);
    if (!calendar) throw new Error(`calendar ${calendarId} is not a calendar of location ${locationId}`);
    return calendar;
  }
}

/** An unknown id, as opposed to a bad value: the control routes answer 404 for it. */
export class NotFound extends Error {}

function checkStatus(status: string): AppointmentStatus {
  if (!STATUSES.includes(status as AppointmentStatus)) {
    throw new Error(`appointmentStatus must be one of ${STATUSES.join(", ")}`);
  }
  return status as AppointmentStatus;
}

const localTimes = new Map<string, string>();

/** Any ISO-8601 time with an offset, shown in the location's zone the way HighLevel shows it. */
function localTime(value: unknown, zone: string, field: string): string {
  // Memoised: luxon's zone arithmetic is slow, and fixtures repeat the same times thousands of times.
  const key = `${zone} ${String(value)}`;
  const known = localTimes.get(key);
  if (known) return known;
  const parsed = typeof value === "string" ? DateTime.fromISO(value, { setZone: true }) : undefined;
  if (!parsed?.isValid || !/(Z|[+-]\d{2}:?\d{2})$/.test(String(value))) {
    throw new Error(`${field} must be an ISO-8601 date-time with an offset`);
  }
  const local = parsed.setZone(zone).toISO({ suppressMilliseconds: true })!;
  if (localTimes.size >= 10_000) localTimes.clear();
  localTimes.set(key, local);
  return local;
}

function checkOrder(appointment: Appointment): void {
  if (Date.parse(appointment.endTime) <= Date.parse(appointment.startTime)) {
    throw new Error("endTime must be after startTime");
  }
}
